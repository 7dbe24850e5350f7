// Findings on the procedural radiograph. Laterality follows the radiological
// convention (patient's left = image right). What each observation draws:
//   PleuralEffusion   basal fluid filling the costophrenic angle with a meniscus
//                     rising laterally; severity sets the height.
//   Cardiomegaly      heart widened to a cardiothoracic ratio > 0.5.
//   EnlargedCardiomediastinum  widened upper mediastinum.
//   Consolidation / Pneumonia / LungOpacity  patchy confluent opacity in one
//                     lung zone (upper / middle / lower from detail, else drawn).
//   Edema             bilateral perihilar (bat-wing) haze plus Kerley lines.
//   Atelectasis       a plate-like linear opacity at the base.
//   Pneumothorax      apical lucency without lung markings, bounded by the
//                     visceral pleural line; severity sets the size.
//   LungLesion        round nodule(s); "mass" in detail draws one large lesion,
//                     "multiple" several.
//   Fracture          a displaced rib discontinuity.
//   PleuralOther      pleural thickening along the lateral wall and apical cap.
//   SupportDevices    tubes and lines by detail: endotracheal tube, nasogastric
//                     tube, central line / PICC, pacemaker with leads, chest tube
//                     (empty or unknown detail: ET + NG tube).
// Certainty::Uncertain draws at about half strength.
#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/rng.hpp"
#include "data/radiograph_detail.hpp"

namespace medforget::rgdetail {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool has(const std::string& hay, const char* needle) { return hay.find(needle) != std::string::npos; }

// Sides a finding is drawn on: 0 = image left (patient's right), 1 = image right.
std::vector<int> sides_of(const Finding& f, Rng& r, bool default_bilateral) {
  if (f.laterality == "left") return {1};
  if (f.laterality == "right") return {0};
  if (f.laterality == "bilateral" || default_bilateral) return {0, 1};
  return {static_cast<int>(r.randint(0, 1))};
}

std::string tag(const Finding& f, size_t i) { return "f" + std::to_string(static_cast<int>(f.obs)) + "_" + std::to_string(i); }

// A smooth elliptical Gaussian bump of peak `amp`, added into m.
void add_gaussian(cv::Mat& m, cv::Point2d c, double sx, double sy, double amp) {
  const int n = m.rows;
  for (int y = 0; y < n; ++y) {
    float* row = m.ptr<float>(y);
    const double dy = ((y + 0.5) / n - c.y) / sy;
    if (std::abs(dy) > 3.5) continue;
    for (int x = 0; x < n; ++x) {
      const double dx = ((x + 0.5) / n - c.x) / sx;
      row[x] += static_cast<float>(amp * std::exp(-0.5 * (dx * dx + dy * dy)));
    }
  }
}

double zone_y(const LungGeom& lg, double frac) { return lg.apex_y + frac * (lg.dome_y - lg.apex_y); }

void effusion(const Geometry& g, int side, double sev, double cert, Layers& L) {
  const LungGeom& lg = g.lung[side];
  const int n = L.n;
  const double h = 0.03 + 0.085 * sev;  // fluid height above the costophrenic angle
  Poly poly;
  for (int k = 0; k <= 30; ++k) {
    double t = k / 30.0;  // 0 medial -> 1 lateral
    double x = g.cx + lg.sgn * (0.02 + t * (g.half_w + 0.02));
    double y = lg.cp_y - h - 0.05 * sev * t * t * t;
    poly.push_back({x, y});
  }
  poly.push_back({poly.back().x, 1.02});
  poly.push_back({poly.front().x, 1.02});
  cv::Mat m = cv::Mat::zeros(n, n, CV_32F);
  cv::fillPoly(m, std::vector<std::vector<cv::Point>>{to_px(poly, n)}, cv::Scalar(1.0));
  soften(m, 0.008);
  L.opacity += m * cert;
}

void patchy(const Geometry& g, int side, const std::string& detail, double sev, double cert, double amp, Rng& r,
            Layers& L) {
  const LungGeom& lg = g.lung[side];
  const int n = L.n;
  double z0, z1;
  const std::string d = lower(detail);
  if (has(d, "upper")) {
    z0 = 0.12, z1 = 0.4;
  } else if (has(d, "middle") || has(d, "lingula")) {
    z0 = 0.4, z1 = 0.68;
  } else if (has(d, "lower") || has(d, "bas")) {
    z0 = 0.66, z1 = 0.95;
  } else {
    double u = r.uniform();
    if (u < 0.5) z0 = 0.66, z1 = 0.95;
    else if (u < 0.75) z0 = 0.4, z1 = 0.68;
    else z0 = 0.12, z1 = 0.4;
  }
  cv::Mat m = cv::Mat::zeros(n, n, CV_32F);
  const double cy = zone_y(lg, 0.5 * (z0 + z1));
  const double xin = g.cx + lg.sgn * (g.med_width / 2 + 0.05), xout = lg.lateral_x - lg.sgn * 0.06;
  const double cxz = xin + (xout - xin) * r.uniform(0.35, 0.65);
  const int blobs = static_cast<int>(r.randint(8, 12));
  for (int k = 0; k < blobs; ++k) {
    cv::Point2d c{cxz + r.normal(0, 0.05 * (0.7 + 0.3 * sev)), cy + r.normal(0, 0.035 * (0.7 + 0.3 * sev))};
    cv::Size ax(thick_px(r.uniform(0.03, 0.06) * (0.75 + 0.25 * sev), n),
                thick_px(r.uniform(0.025, 0.045) * (0.75 + 0.25 * sev), n));
    cv::ellipse(m, px(c, n), ax, r.uniform(0, 180), 0, 360, cv::Scalar(r.uniform(0.55, 1.0)), cv::FILLED);
  }
  soften(m, 0.012);
  // Air bronchograms: a few dark branches through the consolidation.
  cv::Mat air = cv::Mat::zeros(n, n, CV_32F);
  for (int k = 0; k < 2; ++k) {
    cv::Point2d p{cxz - lg.sgn * 0.03, cy + r.normal(0, 0.015)};
    cv::line(air, px(p, n), px(p + cv::Point2d(lg.sgn * 0.06, r.normal(0.01, 0.015)), n), cv::Scalar(0.35),
             thick_px(0.005, n));
  }
  soften(air, 0.003);
  cv::Mat o = m * (amp * std::min(1.3, 0.7 + 0.3 * sev)) - air.mul(m);
  L.opacity += o * cert;
}

void pneumothorax(const Geometry& g, int side, double sev, double cert, Layers& L) {
  const LungGeom& lg = g.lung[side];
  const int n = L.n;
  // The collapsed lung: the outline shrunk towards the hilum.
  const double f = std::clamp(0.9 - 0.14 * sev, 0.6, 0.85);
  Poly shrunk;
  for (const auto& p : lg.outline) shrunk.push_back(lg.hilum + (p - lg.hilum) * f);
  cv::Mat inner = cv::Mat::zeros(n, n, CV_32F);
  cv::fillPoly(inner, std::vector<std::vector<cv::Point>>{to_px(shrunk, n)}, cv::Scalar(1.0));
  cv::Mat region = L.lung_side[side].mul(1.0 - inner);
  // Limit to the apex (small) or the upper lung (large), fading out downwards.
  const double ylim = zone_y(lg, std::clamp(0.3 + 0.3 * sev, 0.35, 0.8));
  for (int y = 0; y < n; ++y) {
    double w = std::clamp((ylim - (y + 0.5) / n) / 0.05 + 0.5, 0.0, 1.0);
    region.row(y) *= w;
  }
  soften(region, 0.003);
  L.ptx += region * cert;
  // The visceral pleural line: the upper part of the collapsed lung's edge.
  Poly line;
  for (const auto& p : shrunk)
    if (p.y < ylim - 0.01 && std::abs(p.x - g.cx) > 0.06) line.push_back(p);
  cv::Mat pl = cv::Mat::zeros(n, n, CV_32F);
  for (size_t i = 1; i < line.size(); ++i)
    if (cv::norm(line[i] - line[i - 1]) < 0.05)
      cv::line(pl, px(line[i - 1], n), px(line[i], n), cv::Scalar(1.0), thick_px(0.003, n));
  soften(pl, 0.002);
  L.dense += pl * (0.18 * cert);
}

bool inside_lung(const Geometry& g, int side, cv::Point2d p) {
  const auto& lg = g.lung[side];
  if (std::abs(p.x - g.cx) < g.med_width / 2 + 0.03) return false;
  if (p.y > g.heart_top && p.x > g.heart_right_x - 0.02 && p.x < g.heart_left_x + 0.02) return false;
  return cv::pointPolygonTest(std::vector<cv::Point2f>(lg.outline.begin(), lg.outline.end()),
                              cv::Point2f(static_cast<float>(p.x), static_cast<float>(p.y)), true) > 0.03;
}

void lesions(const Geometry& g, const Finding& f, double sev, double cert, Rng& r, Layers& L) {
  const std::string d = lower(f.detail);
  const bool mass = has(d, "mass");
  const int count = mass ? 1 : has(d, "multiple") ? static_cast<int>(r.randint(3, 5)) : static_cast<int>(r.randint(1, 2));
  for (int k = 0; k < count; ++k) {
    const std::vector<int> sides = sides_of(f, r, false);
    const int side = sides[static_cast<size_t>(r.randint(0, static_cast<int64_t>(sides.size()) - 1))];
    const LungGeom& lg = g.lung[side];
    cv::Point2d p = lg.hilum;
    for (int tries = 0; tries < 60; ++tries) {
      cv::Point2d q{g.cx + lg.sgn * r.uniform(0.08, g.half_w * 0.9), zone_y(lg, r.uniform(0.15, 0.8))};
      if (inside_lung(g, side, q)) {
        p = q;
        break;
      }
    }
    const double rad = mass ? 0.04 + 0.015 * sev : (0.012 + 0.008 * sev) * r.uniform(0.8, 1.2);
    cv::Mat m = cv::Mat::zeros(L.n, L.n, CV_32F);
    cv::circle(m, px(p, L.n), thick_px(rad, L.n), cv::Scalar(1.0), cv::FILLED);
    soften(m, rad * 0.25);
    L.dense += m * (0.3 * cert);
  }
}

void devices(const Geometry& g, const Finding& f, double cert, Rng& r, Layers& L) {
  const int n = L.n;
  const std::string d = lower(f.detail);
  bool ett = has(d, "endotracheal") || has(d, "et tube") || has(d, "ett");
  bool ng = has(d, "nasogastric") || has(d, "ng tube") || has(d, "enteric") || has(d, "feeding") || has(d, "orogastric");
  bool cvc = has(d, "central") || has(d, "picc") || has(d, "catheter") || has(d, "port") || has(d, "line");
  bool pacer = has(d, "pacemaker") || has(d, "pacer") || has(d, "icd") || has(d, "defibrillator");
  bool chest = has(d, "chest tube") || has(d, "pigtail");
  if (!(ett || ng || cvc || pacer || chest)) ett = ng = true;
  cv::Mat m = cv::Mat::zeros(n, n, CV_32F);
  const double th = 0.006;
  const double cx = g.cx;
  if (ett) {
    const double tip = g.carina_y - r.uniform(0.035, 0.06);
    cv::line(m, px({g.trachea_x + 0.004, -0.02}, n), px({g.trachea_x, tip}, n), cv::Scalar(0.8), thick_px(th * 1.5, n));
    cv::line(m, px({g.trachea_x + 0.004, -0.02}, n), px({g.trachea_x, tip}, n), cv::Scalar(1.0), thick_px(th * 0.5, n));
  }
  if (ng) {
    const LungGeom& lg = g.lung[1];
    Poly p = {{cx + 0.012, -0.02}, {cx + 0.016, g.carina_y}, {cx + 0.022, lg.dome_y - 0.02}, {cx + 0.05, lg.dome_y + 0.06},
              {cx + 0.12, lg.dome_y + 0.1}, {cx + 0.16, lg.dome_y + 0.08}};
    draw_poly(m, p, 1.0, th);
  }
  if (cvc) {
    const LungGeom& lg = g.lung[0];
    Poly p = {{cx - 0.3, 0.2}, {cx - 0.2, 0.215}, {cx - 0.09, g.carina_y - 0.05}, {cx - 0.045, g.carina_y},
              {cx - 0.04, zone_y(lg, 0.5)}};
    draw_poly(m, p, 1.0, th * 0.8);
  }
  if (pacer) {
    cv::Point2d box{cx + 0.25, 0.25};
    cv::rectangle(m, px(box - cv::Point2d(0.045, 0.03), n), px(box + cv::Point2d(0.045, 0.03), n), cv::Scalar(1.4),
                  cv::FILLED);
    Poly ra = {box, {cx + 0.12, 0.26}, {cx + 0.02, g.carina_y + 0.03}, {cx - 0.03, g.heart_top + 0.03},
               {g.heart_right_x + 0.04, g.heart_center.y - 0.02}};
    Poly rv = {box, {cx + 0.13, 0.27}, {cx + 0.03, g.carina_y + 0.04}, {cx - 0.02, g.heart_top + 0.05},
               {g.heart_center.x + 0.02, g.heart_center.y + 0.05}, {g.heart_left_x - 0.06, g.heart_center.y + 0.07}};
    draw_poly(m, ra, 1.0, th * 0.6);
    draw_poly(m, rv, 1.0, th * 0.6);
  }
  if (chest) {
    const std::vector<int> sides = sides_of(f, r, false);
    for (int side : sides) {
      const LungGeom& lg = g.lung[side];
      Poly p = {{lg.lateral_x + lg.sgn * 0.08, lg.cp_y + 0.02}, {lg.lateral_x - lg.sgn * 0.03, lg.dome_y - 0.05},
                {lg.lateral_x - lg.sgn * 0.08, zone_y(lg, 0.4)}, {lg.hilum.x + lg.sgn * 0.02, zone_y(lg, 0.1)}};
      draw_poly(m, p, 1.0, th * 1.8);
    }
  }
  L.device += m * cert;
}

}  // namespace

ShapeMods plan_shape(const PatientAnatomy& a, const std::vector<Finding>& findings, Rng& frng) {
  ShapeMods mods;
  mods.ctr = a.heart_ctr;
  mods.mediastinum_width = a.mediastinum_width;
  if (a.quirk == "healed_fracture") {
    RibBreak b;
    b.side = a.quirk_side;
    b.rib = 3 + static_cast<int>(std::lround(a.quirk_pos * 4));
    b.t = 0.6 + 0.25 * a.quirk_pos;
    b.healed = true;
    mods.breaks.push_back(b);
  }
  Rng r = frng.fork("shape");
  for (const Finding& f : findings) {
    const double sev = strength_of(f), cert = certainty_of(f);
    if (f.obs == Observation::Cardiomegaly) {
      const double target = std::max(0.52 + 0.06 * sev, a.heart_ctr + 0.08);
      mods.ctr = std::max(mods.ctr, a.heart_ctr + (target - a.heart_ctr) * (cert < 1 ? 0.6 : 1.0));
    } else if (f.obs == Observation::EnlargedCardiomediastinum) {
      mods.mediastinum_width = std::max(mods.mediastinum_width, a.mediastinum_width * (1.0 + 0.5 * sev * cert));
    } else if (f.obs == Observation::Fracture) {
      RibBreak b;
      Rng fr = r.fork("fracture");
      b.side = sides_of(f, fr, false).front();
      b.rib = static_cast<int>(fr.randint(3, 7));
      b.t = fr.uniform(0.4, 0.7);
      b.offset = (fr.chance(0.5) ? 1 : -1) * (0.006 + 0.006 * sev) * (cert < 1 ? 0.5 : 1.0);
      mods.breaks.push_back(b);
    }
  }
  return mods;
}

void draw_findings(const Geometry& g, const std::vector<Finding>& findings, Rng& frng, Layers& L) {
  const int n = L.n;
  for (size_t i = 0; i < findings.size(); ++i) {
    const Finding& f = findings[i];
    Rng r = frng.fork(tag(f, i));
    const double sev = strength_of(f), cert = certainty_of(f);
    switch (f.obs) {
      case Observation::PleuralEffusion:
        for (int s : sides_of(f, r, true)) effusion(g, s, sev, cert, L);
        break;
      case Observation::Consolidation:
        for (int s : sides_of(f, r, false)) patchy(g, s, f.detail, sev, cert, 0.95, r, L);
        break;
      case Observation::Pneumonia:
        for (int s : sides_of(f, r, false)) patchy(g, s, f.detail, sev, cert, 0.85, r, L);
        break;
      case Observation::LungOpacity:
        for (int s : sides_of(f, r, false)) patchy(g, s, f.detail, sev, cert, 0.65, r, L);
        break;
      case Observation::Edema: {
        for (int s = 0; s < 2; ++s) {
          const LungGeom& lg = g.lung[s];
          add_gaussian(L.opacity, lg.hilum + cv::Point2d(lg.sgn * 0.04, 0.02), 0.09, 0.13, 0.6 * sev * cert);
          for (int k = 0; k < 4; ++k) {  // Kerley B lines at the lateral bases
            double y = lg.cp_y - 0.03 - 0.018 * k;
            cv::Point2d a{lg.lateral_x - lg.sgn * 0.012, y};
            cv::line(L.opacity, px(a, n), px(a - cv::Point2d(lg.sgn * 0.035, 0), n), cv::Scalar(0.5 * cert),
                     thick_px(0.003, n));
          }
        }
        cv::Mat v = L.vessels.clone();  // indistinct vessels
        soften(v, 0.01);
        L.vessels = L.vessels * (1 - 0.5 * cert) + v * (0.5 * cert);
        break;
      }
      case Observation::Atelectasis:
        for (int s : sides_of(f, r, false)) {
          const LungGeom& lg = g.lung[s];
          const double y = lg.dome_y - r.uniform(0.035, 0.07);
          const double tilt = r.uniform(-0.035, -0.01);
          cv::Mat m = cv::Mat::zeros(n, n, CV_32F);
          const double x0 = g.cx + lg.sgn * (g.med_width / 2 + r.uniform(0.06, 0.1));
          cv::Point2d a{x0, y}, b{x0 + lg.sgn * r.uniform(0.12, 0.18), y + tilt};
          cv::line(m, px(a, n), px(b, n), cv::Scalar(1.0), thick_px(0.01 + 0.008 * sev, n));
          soften(m, 0.004);
          add_gaussian(m, 0.5 * (a + b), 0.07, 0.03, 0.25 * sev);
          L.opacity += m * cert;
        }
        break;
      case Observation::Pneumothorax:
        for (int s : sides_of(f, r, false)) pneumothorax(g, s, sev, cert, L);
        break;
      case Observation::LungLesion:
        lesions(g, f, sev, cert, r, L);
        break;
      case Observation::PleuralOther:
        for (int s : sides_of(f, r, false)) {
          const LungGeom& lg = g.lung[s];
          Poly wall;
          for (size_t k = 4; k + 3 < lg.lateral_wall.size(); ++k) {
            auto p = lg.lateral_wall[k];
            wall.push_back({p.x - lg.sgn * 0.014, p.y});
          }
          cv::Mat m = cv::Mat::zeros(n, n, CV_32F);
          draw_poly(m, wall, 1.0, 0.016 + 0.01 * sev);
          cv::ellipse(m, px({lg.lateral_wall.front().x, lg.apex_y + 0.01}, n),
                      cv::Size(thick_px(0.05, n), thick_px(0.02, n)), 0, 0, 360, cv::Scalar(0.8), cv::FILLED);
          soften(m, 0.004);
          L.opacity += m * (0.9 * cert);
        }
        break;
      case Observation::SupportDevices:
        devices(g, f, cert, r, L);
        break;
      case Observation::Cardiomegaly:
      case Observation::EnlargedCardiomediastinum:
      case Observation::Fracture:  // shape changes, applied by plan_shape()
      case Observation::NoFinding:
        break;
    }
  }
}

}  // namespace medforget::rgdetail
