// Normal chest anatomy for the procedural radiograph: geometry from the
// patient's parameters and the study pose, then the density layers (soft tissue,
// lungs, heart and mediastinum, airway, ribs, spine, clavicles, humeri, lung
// markings and the patient's quirk).
#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/rng.hpp"
#include "data/radiograph_detail.hpp"

namespace medforget::rgdetail {

namespace {

constexpr double kPi = 3.14159265358979323846;

double deg2rad(double d) { return d * kPi / 180.0; }

// A lung outline: apex -> lateral wall -> costophrenic angle -> diaphragm dome
// -> medial wall -> apex.
LungGeom make_lung(const PatientAnatomy& a, double cx, double half_w, double dome_y, double apex_y,
                   int side) {
  LungGeom L;
  const double s = side == 0 ? -1.0 : 1.0;
  L.sgn = s;
  L.apex_y = apex_y;
  L.dome_y = dome_y;
  L.cp_y = dome_y + 0.055 + 0.02 * (dome_y - 0.7);
  L.lateral_x = cx + s * half_w * 0.98;
  L.medial_x = cx + s * 0.035;
  const double apex_x = cx + s * half_w * a.apex_width;
  const double h = L.cp_y - apex_y;

  // Lateral wall: rounded apex, widest at ~70% of the height.
  const int K = 40;
  for (int k = 0; k <= K; ++k) {
    double t = static_cast<double>(k) / K;
    double y = apex_y + t * h;
    double w = std::pow(std::sin(kPi / 2 * std::min(1.0, t / 0.72)), 0.45);
    double reach = std::abs(L.lateral_x - apex_x) * (1.0 + 0.03 * std::sin(kPi * std::min(1.0, t)));
    double x = apex_x + s * reach * w;
    if (t > 0.9) x -= s * 0.05 * half_w * (t - 0.9) / 0.1;  // slight inward turn into the angle
    L.lateral_wall.push_back({x, y});
  }
  L.outline = L.lateral_wall;
  // Diaphragm: from the costophrenic angle (lateral) to the medial end; the
  // dome peaks ~55% of the way in.
  const double x_cp = L.lateral_wall.back().x;
  const double x_med = L.medial_x;
  for (int k = 1; k <= K; ++k) {
    double u = static_cast<double>(k) / K;
    double x = x_cp + (x_med - x_cp) * u;
    double y;
    if (u < 0.55) {
      double v = 1.0 - u / 0.55;
      y = dome_y + (L.cp_y - dome_y) * v * v;
    } else {
      double v = (u - 0.55) / 0.45;
      y = dome_y + 0.035 * v * v;
    }
    L.outline.push_back({x, y});
    L.diaphragm.push_back({x, y});
  }
  // Medial wall, straight up behind the mediastinum, then curving to the apex.
  const double y_turn = apex_y + 0.12 * h;
  for (int k = 1; k <= 10; ++k) {
    double u = static_cast<double>(k) / 10;
    L.outline.push_back({x_med, dome_y + 0.035 + (y_turn - dome_y - 0.035) * u});
  }
  for (int k = 1; k < 10; ++k) {
    double u = static_cast<double>(k) / 10;  // quarter-ellipse from (x_med, y_turn) to the apex
    double ang = u * kPi / 2;
    L.outline.push_back({x_med + (apex_x - x_med) * std::sin(ang),
                         y_turn - (y_turn - apex_y) * std::sin(ang)});
  }
  L.hilum = {cx + s * (0.085 + 0.06 * half_w), apex_y + (side == 1 ? 0.40 : 0.44) * (dome_y - apex_y)};
  return L;
}

void vessel_tree(cv::Mat& m, Rng& r, cv::Point2d p, double ang, double len, double th, int depth,
                 int n) {
  cv::Point2d q = p + cv::Point2d(std::cos(ang) * len, std::sin(ang) * len);
  // A slightly curved segment, tapering into its children.
  cv::Point2d mid = 0.5 * (p + q) + cv::Point2d(-std::sin(ang), std::cos(ang)) * (len * r.normal(0, 0.12));
  const cv::Scalar v(std::min(1.0, 0.45 + th * 40));
  cv::line(m, px(p, n), px(mid, n), v, thick_px(th, n));
  cv::line(m, px(mid, n), px(q, n), v, thick_px(th * 0.85, n));
  if (depth == 0) return;
  int kids = r.chance(0.3) ? 3 : 2;
  for (int k = 0; k < kids; ++k) {
    double spread = (k - (kids - 1) / 2.0) * r.uniform(0.3, 0.55) + r.normal(0, 0.1);
    vessel_tree(m, r, q, ang + spread, len * r.uniform(0.6, 0.78), th * 0.68, depth - 1, n);
  }
}

// A bone band with brighter cortical edges.
void draw_cortical(cv::Mat& m, const Poly& p, double v, double th) {
  cv::Mat band = cv::Mat::zeros(m.size(), CV_32F);
  draw_poly(band, p, v * 0.5, th);
  Poly up = p, down = p;
  for (auto& q : up) q.y -= th * 0.42;
  for (auto& q : down) q.y += th * 0.42;
  draw_poly(band, up, v, th * 0.22);
  draw_poly(band, down, v, th * 0.22);
  cv::max(m, band, m);
}

void draw_rib(cv::Mat& m, const Poly& rib, double th, double v, int n, const std::vector<RibBreak>& br,
              int side, int idx) {
  std::vector<double> cuts;
  for (const auto& b : br) {
    if (b.side != side || b.rib != idx) continue;
    size_t k = static_cast<size_t>(std::clamp(b.t, 0.05, 0.95) * (rib.size() - 1));
    if (b.healed) {
      cv::ellipse(m, px(rib[k], n), cv::Size(thick_px(th * 1.1, n), thick_px(th * 0.85, n)), 0, 0, 360,
                  cv::Scalar(v * (1.0 + 0.5 * b.strength)), cv::FILLED);
    } else {
      cuts.push_back(static_cast<double>(k));
    }
  }
  if (cuts.empty()) {
    draw_cortical(m, rib, v, th);
    return;
  }
  // Acute fracture: the lateral fragment is displaced and separated by a gap.
  const RibBreak* b = nullptr;
  for (const auto& x : br)
    if (x.side == side && x.rib == idx && !x.healed) b = &x;
  size_t k = static_cast<size_t>(cuts.front());
  size_t gap = std::max<size_t>(1, rib.size() / 20);
  Poly a(rib.begin(), rib.begin() + static_cast<long>(k - std::min(k, gap)) + 1);
  Poly c(rib.begin() + static_cast<long>(std::min(rib.size() - 1, k + gap)), rib.end());
  // The displacement is greatest at the break and fades along the fragment.
  for (size_t i = 0; i < c.size(); ++i)
    c[i].y += b->offset * std::max(0.0, 1.0 - static_cast<double>(i) / (0.3 * static_cast<double>(rib.size())));
  draw_cortical(m, a, v, th);
  draw_cortical(m, c, v, th);
}

}  // namespace

Geometry build_geometry(const PatientAnatomy& a, const StudyPose& pose, const ShapeMods& mods) {
  Geometry g;
  g.cx = a.thorax_cx;
  g.half_w = a.thorax_width / 2;
  const double insp = std::clamp(pose.inspiration, 0.7, 1.3);
  const double apex_y = a.lung_apex_y;
  auto dome = [&](double y) { return apex_y + (y - apex_y) * insp; };
  g.lung[0] = make_lung(a, g.cx, g.half_w, dome(a.diaphragm_right_y), apex_y, 0);
  g.lung[1] = make_lung(a, g.cx, g.half_w, dome(a.diaphragm_left_y), apex_y, 1);

  // Heart: a tilted ellipse resting on the diaphragm; ctr sets its width.
  const double W = mods.ctr * a.thorax_width;
  g.heart_right_x = g.cx - (1.0 - a.heart_left_frac) * W;
  g.heart_left_x = g.cx + a.heart_left_frac * W;
  const double H = a.heart_height * (1.0 + 0.6 * std::max(0.0, mods.ctr / a.heart_ctr - 1.0));
  const double base = 0.5 * (g.lung[0].dome_y + g.lung[1].dome_y) + 0.03;
  g.heart_center = {0.5 * (g.heart_right_x + g.heart_left_x), base - 0.42 * H};
  g.heart_axes = {W / 2, H * 0.62};
  g.heart_angle_deg = -18.0;
  g.heart_top = g.heart_center.y - g.heart_axes.height;
  g.med_width = mods.mediastinum_width;
  g.trachea_x = g.cx - 0.006;
  g.carina_y = apex_y + 0.36 * (g.lung[0].dome_y - apex_y);

  // Posterior ribs: arcs from the spine out to the chest wall, the lateral end
  // turning down at the patient's rib angle.
  const double spacing = a.rib_spacing * (0.6 + 0.4 * insp);
  const double slope = std::tan(deg2rad(a.rib_angle_deg));
  for (int side = 0; side < 2; ++side) {
    const double s = side == 0 ? -1.0 : 1.0;
    for (int i = 0; i < 11; ++i) {
      const double y0 = apex_y - 0.035 + i * spacing * (0.86 + 0.025 * i);
      const double reach = std::min(1.0, 0.55 + 0.12 * i) * (g.half_w + 0.035);
      Poly rib;
      for (int k = 0; k <= 40; ++k) {
        double t = k / 40.0;
        const double x0 = a.spine_x + s * 0.02, x1 = g.cx + s * reach;
        double x = x0 + (x1 - x0) * t;
        double y = y0 - 0.035 * std::sin(kPi * t * 0.9) + slope * 0.25 * std::pow(t, 2.6);
        rib.push_back({x, y});
      }
      g.ribs[side].push_back(rib);
    }
  }
  g.breaks = mods.breaks;
  return g;
}

void draw_anatomy(const Geometry& g, const PatientAnatomy& a, Layers& L) {
  const int n = L.n;
  const double cx = g.cx;
  const double bw = a.body_width / 2;

  // Soft tissue: neck, shoulders, torso, and the arms' soft tissue at the top corners.
  Poly body = {{cx - 0.085, -0.02}, {cx - 0.09, 0.06},  {cx - 0.2, 0.1},   {cx - bw + 0.03, 0.14},
               {cx - bw, 0.22},     {cx - bw - 0.01, 0.5}, {cx - bw + 0.02, 1.02}, {cx + bw - 0.02, 1.02},
               {cx + bw + 0.01, 0.5}, {cx + bw, 0.22},   {cx + bw - 0.03, 0.14}, {cx + 0.2, 0.1},
               {cx + 0.09, 0.06},   {cx + 0.085, -0.02}};
  cv::fillPoly(L.body, std::vector<std::vector<cv::Point>>{to_px(body, n)}, cv::Scalar(1.0));
  for (int side = 0; side < 2; ++side) {
    double s = side == 0 ? -1.0 : 1.0;
    cv::ellipse(L.body, px({cx + s * (bw + 0.01), 0.2}, n), cv::Size(thick_px(0.11, n), thick_px(0.1, n)),
                0, 0, 360, cv::Scalar(1.0), cv::FILLED);
    cv::Point2d hh{cx + s * (bw + 0.03), 0.205};
    cv::ellipse(L.bone, px(hh, n), cv::Size(thick_px(0.07, n), thick_px(0.065, n)), 0, 0, 360,
                cv::Scalar(0.65), cv::FILLED);
    cv::line(L.bone, px(hh, n), px({hh.x + s * 0.03, 0.5}, n), cv::Scalar(0.65), thick_px(0.09, n));
  }
  soften(L.body, 0.012);
  // The patient is thicker in the middle than at the lateral chest wall.
  for (int x = 0; x < n; ++x) {
    const double dx = ((x + 0.5) / n - cx) / (bw * 0.75);
    L.body.col(x) *= 0.68 + 0.32 * std::exp(-dx * dx);
  }

  // Below the diaphragm: liver, spleen and stomach.
  {
    Poly ab = g.lung[0].diaphragm;
    ab.insert(ab.end(), g.lung[1].diaphragm.rbegin(), g.lung[1].diaphragm.rend());
    ab.push_back({ab.back().x + 0.1, ab.back().y + 0.05});
    ab.push_back({ab.back().x, 1.05});
    ab.push_back({ab.front().x - 0.1, 1.05});
    ab.push_back({ab.front().x - 0.1, ab.front().y + 0.05});
    cv::fillPoly(L.abdomen, std::vector<std::vector<cv::Point>>{to_px(ab, n)}, cv::Scalar(1.0));
    soften(L.abdomen, 0.006);
    L.abdomen = L.abdomen.mul(L.body);
  }

  // Lungs: aeration is greatest mid-lung; apices and bases are overlapped by
  // more soft tissue, and the periphery is thinner.
  for (int side = 0; side < 2; ++side) {
    const LungGeom& lg = g.lung[side];
    cv::fillPoly(L.lung_side[side], std::vector<std::vector<cv::Point>>{to_px(lg.outline, n)}, cv::Scalar(1.0));
    soften(L.lung_side[side], 0.004);
    for (int y = 0; y < n; ++y) {
      const double t = ((y + 0.5) / n - lg.apex_y) / (lg.cp_y - lg.apex_y);
      const double fy = t < 0.45 ? 0.7 + 0.3 * std::sin(kPi / 2 * std::clamp(t / 0.45, 0.0, 1.0))
                                 : 1.0 - 0.22 * std::clamp((t - 0.45) / 0.55, 0.0, 1.0);
      float* row = L.lung_side[side].ptr<float>(y);
      for (int x = 0; x < n; ++x) {
        const double u = std::abs((x + 0.5) / n - cx) / g.half_w;  // 0 midline .. 1 chest wall
        const double fx = 1.0 - 0.25 * std::pow(std::clamp(u, 0.0, 1.0), 6);
        row[x] *= static_cast<float>(fy * fx);
      }
    }
  }
  L.lung = cv::max(L.lung_side[0], L.lung_side[1]);

  // Mediastinum (widest above the heart) and the heart.
  {
    const double mw = g.med_width / 2;
    const double top = -0.02, bottom = g.heart_center.y;
    Poly med = {{cx - mw * 0.75, top}, {cx - mw * 0.85, g.carina_y - 0.05}, {cx - mw, g.heart_top + 0.02},
                {cx - mw, bottom},     {cx + mw, bottom},   {cx + mw * 1.05, g.heart_top + 0.02},
                {cx + mw * 0.9, g.carina_y - 0.05}, {cx + mw * 0.75, top}};
    cv::fillPoly(L.cover, std::vector<std::vector<cv::Point>>{to_px(med, n)}, cv::Scalar(1.0));
    // Aortic knob on the patient's left (image right).
    cv::circle(L.cover, px({cx + mw * 1.0, g.carina_y - 0.01}, n), thick_px(0.032, n), cv::Scalar(1.0),
               cv::FILLED);
    cv::Mat heart = cv::Mat::zeros(n, n, CV_32F);
    cv::ellipse(heart, px(g.heart_center, n),
                cv::Size(thick_px(g.heart_axes.width, n), thick_px(g.heart_axes.height, n)),
                g.heart_angle_deg, 0, 360, cv::Scalar(1.0), cv::FILLED);
    // Right atrial bulge and the left ventricular apex towards the diaphragm.
    cv::ellipse(heart, px({g.heart_right_x + g.heart_axes.width * 0.35, g.heart_center.y + 0.01}, n),
                cv::Size(thick_px(g.heart_axes.width * 0.4, n), thick_px(g.heart_axes.height * 0.8, n)), 0,
                0, 360, cv::Scalar(1.0), cv::FILLED);
    soften(heart, 0.006);
    L.cover = cv::max(L.cover, heart);
    soften(L.cover, 0.005);
    L.heart += heart;
    L.heart += L.cover * 0.4;
  }

  // Airway: trachea down to the carina, main bronchi; gastric bubble under the
  // left hemidiaphragm.
  {
    cv::Point2d car{g.trachea_x, g.carina_y};
    cv::line(L.airway, px({g.trachea_x + 0.004, -0.02}, n), px(car, n), cv::Scalar(1.0), thick_px(0.034, n));
    cv::line(L.airway, px(car, n), px({car.x - 0.07, car.y + 0.05}, n), cv::Scalar(0.8), thick_px(0.022, n));
    cv::line(L.airway, px(car, n), px({car.x + 0.075, car.y + 0.065}, n), cv::Scalar(0.8), thick_px(0.02, n));
    const LungGeom& lg = g.lung[1];
    cv::ellipse(L.airway, px({cx + 0.13, lg.dome_y + 0.06}, n), cv::Size(thick_px(0.055, n), thick_px(0.03, n)),
                0, 180, 360, cv::Scalar(1.2), cv::FILLED);
    soften(L.airway, 0.006);
  }

  // Bones: spine (vertebral bodies, pedicles, spinous processes), clavicles, ribs.
  {
    const double sw = a.spine_width / 2;
    const double vh = a.rib_spacing * 0.95;
    for (double y = -0.03; y < 1.02; y += vh) {
      cv::rectangle(L.bone, px({a.spine_x - sw, y}, n), px({a.spine_x + sw, y + vh * 0.8}, n), cv::Scalar(0.3),
                    cv::FILLED);
      for (int s = -1; s <= 1; s += 2)
        cv::ellipse(L.bone, px({a.spine_x + s * sw * 0.72, y + vh * 0.35}, n),
                    cv::Size(thick_px(0.008, n), thick_px(0.012, n)), 0, 0, 360, cv::Scalar(0.6), thick_px(0.004, n));
      cv::ellipse(L.bone, px({a.spine_x, y + vh * 0.55}, n), cv::Size(thick_px(0.005, n), thick_px(0.012, n)), 0, 0,
                  360, cv::Scalar(0.5), cv::FILLED);
    }
    const double ca = std::tan(deg2rad(a.clavicle_angle_deg));
    for (int side = 0; side < 2; ++side) {
      double s = side == 0 ? -1.0 : 1.0;
      Poly clav;
      for (int k = 0; k <= 30; ++k) {
        double t = k / 30.0;
        clav.push_back({cx + s * (0.03 + 0.34 * t), a.clavicle_y - ca * 0.34 * t + 0.01 * std::sin(2 * kPi * t)});
      }
      draw_poly(L.bone, clav, 0.8, 0.024);
      cv::circle(L.bone, px(clav.front(), n), thick_px(0.016, n), cv::Scalar(0.8), cv::FILLED);
      for (size_t i = 0; i < g.ribs[side].size(); ++i) {
        const Poly& rib = g.ribs[side][i];
        draw_rib(L.bone, rib, a.rib_thickness, 0.4, n, g.breaks, side, static_cast<int>(i));
        // The anterior rib: fainter, from the lateral end sloping down-medially.
        const cv::Point2d e = rib.back();
        Poly ant;
        for (int k = 0; k <= 20; ++k) {
          double t = k / 20.0;
          ant.push_back({e.x - s * t * (std::abs(e.x - cx) - 0.1), e.y + 0.01 + 0.1 * t - 0.03 * t * t});
        }
        draw_poly(L.bone, ant, 0.2, a.rib_thickness * 0.9);
      }
    }
    L.bone.setTo(0, L.body < 0.5);  // no bone outside the patient
    soften(L.bone, 0.003);
  }

  // Lung markings: a branching vessel tree from each hilum.
  {
    Rng vr(a.vessel_seed);
    for (int side = 0; side < 2; ++side) {
      const LungGeom& lg = g.lung[side];
      Rng r = vr.fork(side == 0 ? "right" : "left");
      cv::circle(L.vessels, px(lg.hilum, n), thick_px(0.028, n), cv::Scalar(0.9), cv::FILLED);
      const double base_angles[] = {-115, -75, -35, 5, 40, 75, 105};
      for (double b : base_angles) {
        double ang_deg = side == 1 ? b : 180.0 - b;
        vessel_tree(L.vessels, r, lg.hilum, deg2rad(ang_deg + r.normal(0, 8)), r.uniform(0.05, 0.075), 0.009, 5,
                    n);
      }
    }
    soften(L.vessels, 0.005);
  }

  // The patient's quirk.
  if (a.quirk == "healed_fracture") {
    // Handled through Geometry::breaks by plan_shape(); nothing else to draw.
  } else if (a.quirk == "surgical_clips") {
    const LungGeom& lg = g.lung[a.quirk_side];
    cv::Point2d c{lg.hilum.x + lg.sgn * 0.06, lg.apex_y + (0.2 + 0.3 * a.quirk_pos) * (lg.dome_y - lg.apex_y)};
    for (int k = 0; k < 3; ++k) {
      cv::Point2d p = c + cv::Point2d(0.018 * k * lg.sgn, 0.012 * k);
      cv::line(L.dense, px(p, n), px(p + cv::Point2d(0.008, 0.012), n), cv::Scalar(0.9), thick_px(0.004, n));
      cv::line(L.dense, px(p, n), px(p + cv::Point2d(-0.008, 0.012), n), cv::Scalar(0.9), thick_px(0.004, n));
    }
  } else if (a.quirk == "sternotomy_wires") {
    for (int k = 0; k < 5; ++k) {
      cv::Point2d p{cx, g.carina_y - 0.06 + k * 0.05};
      cv::ellipse(L.dense, px(p, n), cv::Size(thick_px(0.01, n), thick_px(0.006, n)), 10, 0, 360,
                  cv::Scalar(0.8), thick_px(0.004, n));
    }
  }
}

}  // namespace medforget::rgdetail
