// Procedural chest radiographs: parameter sampling and JSON, the rendering
// pipeline (anatomy + findings -> attenuation map -> pose -> house style ->
// downsample -> noise), the forget-rephrase augmentation and PNG I/O.
#include "data/radiograph.hpp"

#include <algorithm>
#include <cmath>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/rng.hpp"
#include "data/radiograph_detail.hpp"

namespace medforget {

namespace rgdetail {

Layers::Layers(int n_) : n(n_) {
  for (cv::Mat* m : {&body, &lung, &lung_side[0], &lung_side[1], &cover, &heart, &abdomen, &bone, &vessels, &airway,
                     &opacity, &ptx, &dense, &device})
    *m = cv::Mat::zeros(n, n, CV_32F);
}

std::vector<cv::Point> to_px(const Poly& p, int n) {
  std::vector<cv::Point> out;
  out.reserve(p.size());
  for (const auto& q : p) out.push_back(px(q, n));
  return out;
}

int thick_px(double t, int n) { return std::max(1, static_cast<int>(std::lround(t * n))); }

void soften(cv::Mat& m, double sigma) {
  const double s = sigma * m.cols;
  if (s < 0.3) return;
  cv::GaussianBlur(m, m, cv::Size(0, 0), s, s, cv::BORDER_REPLICATE);
}

void draw_poly(cv::Mat& m, const Poly& p, double value, double thickness) {
  if (p.size() < 2) return;
  std::vector<std::vector<cv::Point>> pts{to_px(p, m.cols)};
  cv::polylines(m, pts, false, cv::Scalar(value), thick_px(thickness, m.cols), cv::LINE_8);
}

double strength_of(const Finding& f) {
  const std::string& s = f.severity;
  if (s == "mild" || s == "small" || s == "minimal" || s == "trace") return 0.6;
  if (s == "large" || s == "severe") return 1.4;
  return 1.0;
}

double certainty_of(const Finding& f) { return f.certainty == Certainty::Uncertain ? 0.5 : 1.0; }

}  // namespace rgdetail

namespace {

using rgdetail::Layers;

double num(const Json& j, const char* key, const std::string& ctx, double lo, double hi) {
  if (!j.is_object()) fail(ctx + ": expected a JSON object");
  auto it = j.find(key);
  if (it == j.end() || !it->is_number())
    fail(ctx + ": field '" + key + "': expected a number");
  double v = it->get<double>();
  if (!(v >= lo && v <= hi))
    fail(ctx + ": field '" + key + "': " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " +
         std::to_string(hi) + "]");
  return v;
}

std::string str(const Json& j, const char* key, const std::string& ctx) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) fail(ctx + ": field '" + key + "': expected a string");
  return it->get<std::string>();
}

std::string random_initials(Rng& r) {
  std::string s(2, 'A');
  for (char& c : s) c = static_cast<char>('A' + r.randint(0, 25));
  return s;
}

}  // namespace

// ---- parameters --------------------------------------------------------------

PatientAnatomy PatientAnatomy::sample(Rng& rng) {
  Rng r = rng.fork("anatomy");
  PatientAnatomy a;
  a.thorax_cx = 0.5 + r.uniform(-0.015, 0.015);
  a.thorax_width = r.uniform(0.7, 0.86);
  a.body_width = std::min(0.99, a.thorax_width + r.uniform(0.1, 0.16));
  a.soft_density = r.uniform(0.38, 0.58);
  a.lung_apex_y = r.uniform(0.11, 0.17);
  a.apex_width = r.uniform(0.36, 0.5);
  a.diaphragm_right_y = r.uniform(0.66, 0.77);
  a.diaphragm_left_y = a.diaphragm_right_y + r.uniform(0.0, 0.035);
  a.heart_ctr = r.uniform(0.41, 0.48);
  a.heart_left_frac = r.uniform(0.64, 0.72);
  a.heart_height = r.uniform(0.17, 0.22);
  a.mediastinum_width = r.uniform(0.11, 0.15);
  a.rib_spacing = r.uniform(0.054, 0.068);
  a.rib_angle_deg = r.uniform(16, 32);
  a.rib_thickness = r.uniform(0.015, 0.021);
  a.spine_x = a.thorax_cx + r.uniform(-0.01, 0.01);
  a.spine_width = r.uniform(0.065, 0.085);
  a.clavicle_y = r.uniform(0.15, 0.21);
  a.clavicle_angle_deg = r.uniform(4, 18);
  a.vessel_seed = r.next();
  const double q = r.uniform();
  a.quirk = q < 0.7 ? "none" : q < 0.8 ? "healed_fracture" : q < 0.9 ? "surgical_clips" : "sternotomy_wires";
  a.quirk_side = static_cast<int>(r.randint(0, 1));
  a.quirk_pos = r.uniform();
  return a;
}

Json PatientAnatomy::to_json() const {
  return Json{{"thorax_cx", thorax_cx},
              {"thorax_width", thorax_width},
              {"body_width", body_width},
              {"soft_density", soft_density},
              {"lung_apex_y", lung_apex_y},
              {"apex_width", apex_width},
              {"diaphragm_right_y", diaphragm_right_y},
              {"diaphragm_left_y", diaphragm_left_y},
              {"heart_ctr", heart_ctr},
              {"heart_left_frac", heart_left_frac},
              {"heart_height", heart_height},
              {"mediastinum_width", mediastinum_width},
              {"rib_spacing", rib_spacing},
              {"rib_angle_deg", rib_angle_deg},
              {"rib_thickness", rib_thickness},
              {"spine_x", spine_x},
              {"spine_width", spine_width},
              {"clavicle_y", clavicle_y},
              {"clavicle_angle_deg", clavicle_angle_deg},
              {"vessel_seed", vessel_seed},
              {"quirk", quirk},
              {"quirk_side", quirk_side},
              {"quirk_pos", quirk_pos}};
}

PatientAnatomy PatientAnatomy::from_json(const Json& j, const std::string& ctx) {
  PatientAnatomy a;
  a.thorax_cx = num(j, "thorax_cx", ctx, 0.3, 0.7);
  a.thorax_width = num(j, "thorax_width", ctx, 0.4, 0.95);
  a.body_width = num(j, "body_width", ctx, 0.4, 1.0);
  a.soft_density = num(j, "soft_density", ctx, 0.1, 1.0);
  a.lung_apex_y = num(j, "lung_apex_y", ctx, 0.02, 0.4);
  a.apex_width = num(j, "apex_width", ctx, 0.1, 0.8);
  a.diaphragm_right_y = num(j, "diaphragm_right_y", ctx, 0.4, 0.9);
  a.diaphragm_left_y = num(j, "diaphragm_left_y", ctx, 0.4, 0.9);
  a.heart_ctr = num(j, "heart_ctr", ctx, 0.2, 0.8);
  a.heart_left_frac = num(j, "heart_left_frac", ctx, 0.3, 0.9);
  a.heart_height = num(j, "heart_height", ctx, 0.05, 0.4);
  a.mediastinum_width = num(j, "mediastinum_width", ctx, 0.03, 0.4);
  a.rib_spacing = num(j, "rib_spacing", ctx, 0.03, 0.12);
  a.rib_angle_deg = num(j, "rib_angle_deg", ctx, 0, 60);
  a.rib_thickness = num(j, "rib_thickness", ctx, 0.005, 0.05);
  a.spine_x = num(j, "spine_x", ctx, 0.3, 0.7);
  a.spine_width = num(j, "spine_width", ctx, 0.02, 0.2);
  a.clavicle_y = num(j, "clavicle_y", ctx, 0.0, 0.4);
  a.clavicle_angle_deg = num(j, "clavicle_angle_deg", ctx, -30, 45);
  auto it = j.find("vessel_seed");
  if (it == j.end() || !it->is_number_integer()) fail(ctx + ": field 'vessel_seed': expected an integer");
  a.vessel_seed = it->get<uint64_t>();
  a.quirk = str(j, "quirk", ctx);
  if (a.quirk != "none" && a.quirk != "healed_fracture" && a.quirk != "surgical_clips" &&
      a.quirk != "sternotomy_wires")
    fail(ctx + ": field 'quirk': expected none, healed_fracture, surgical_clips or sternotomy_wires, got '" +
         a.quirk + "'");
  a.quirk_side = static_cast<int>(num(j, "quirk_side", ctx, 0, 1));
  a.quirk_pos = num(j, "quirk_pos", ctx, 0, 1);
  return a;
}

AcquisitionStyle AcquisitionStyle::sample(Rng& rng, int index) {
  Rng r = rng.fork("style");
  AcquisitionStyle s;
  static const double bands[] = {-0.09, -0.03, 0.03, 0.09};
  s.exposure = index >= 0 ? bands[index % 4] + r.uniform(-0.015, 0.015) : r.uniform(-0.1, 0.11);
  s.contrast = r.uniform(0.85, 1.25);
  s.gamma = r.uniform(0.8, 1.3);
  s.noise_sd = index >= 0 ? ((index / 4) % 2 == 0 ? 0.012 : 0.032) + r.uniform(0, 0.008) : r.uniform(0.01, 0.04);
  s.blur = r.uniform(0.002, 0.007);
  const double m = r.uniform();
  s.marker = m < 0.35 ? "L" : m < 0.55 ? "R" : random_initials(r);
  s.marker_corner = index >= 0 ? index % 4 : static_cast<int>(r.randint(0, 3));
  s.border = r.uniform(0.0, 0.06);
  s.border_value = r.chance(0.5) ? r.uniform(0.0, 0.05) : r.uniform(0.75, 0.95);
  return s;
}

Json AcquisitionStyle::to_json() const {
  return Json{{"exposure", exposure}, {"contrast", contrast},     {"gamma", gamma},
              {"noise_sd", noise_sd}, {"blur", blur},             {"marker", marker},
              {"marker_corner", marker_corner}, {"border", border}, {"border_value", border_value}};
}

AcquisitionStyle AcquisitionStyle::from_json(const Json& j, const std::string& ctx) {
  AcquisitionStyle s;
  s.exposure = num(j, "exposure", ctx, -0.5, 0.5);
  s.contrast = num(j, "contrast", ctx, 0.1, 3.0);
  s.gamma = num(j, "gamma", ctx, 0.2, 3.0);
  s.noise_sd = num(j, "noise_sd", ctx, 0.0, 0.3);
  s.blur = num(j, "blur", ctx, 0.0, 0.05);
  s.marker = str(j, "marker", ctx);
  if (s.marker.size() > 3) fail(ctx + ": field 'marker': expected at most 3 characters, got '" + s.marker + "'");
  s.marker_corner = static_cast<int>(num(j, "marker_corner", ctx, 0, 3));
  s.border = num(j, "border", ctx, 0.0, 0.2);
  s.border_value = num(j, "border_value", ctx, 0.0, 1.0);
  return s;
}

StudyPose StudyPose::sample(Rng& rng) {
  Rng r = rng.fork("pose");
  StudyPose p;
  p.rotation_deg = r.uniform(-2.0, 2.0);
  p.shift_x = r.uniform(-0.015, 0.015);
  p.shift_y = r.uniform(-0.015, 0.015);
  p.inspiration = r.uniform(0.94, 1.05);
  return p;
}

Json StudyPose::to_json() const {
  return Json{{"rotation_deg", rotation_deg}, {"shift_x", shift_x}, {"shift_y", shift_y}, {"inspiration", inspiration}};
}

StudyPose StudyPose::from_json(const Json& j, const std::string& ctx) {
  StudyPose p;
  p.rotation_deg = num(j, "rotation_deg", ctx, -45, 45);
  p.shift_x = num(j, "shift_x", ctx, -0.3, 0.3);
  p.shift_y = num(j, "shift_y", ctx, -0.3, 0.3);
  p.inspiration = num(j, "inspiration", ctx, 0.7, 1.3);
  return p;
}

// ---- rendering ---------------------------------------------------------------

namespace {

// Attenuation map from the layers: soft tissue minus aerated lung plus bone,
// vessels, devices.
cv::Mat compose(const Layers& L, double soft) {
  cv::Mat fill = cv::min(cv::max(L.opacity, 0.0), 1.0);
  cv::Mat aerated = L.lung.mul(1.0 - L.cover * 0.82);
  cv::Mat open = aerated.mul(1.0 - fill);
  cv::Mat ptx = cv::min(L.ptx, 1.0);
  cv::Mat D = L.body * soft;
  D -= open * (0.75 * soft);
  D -= ptx.mul(L.lung) * 0.14;
  D += L.heart * 0.06;
  D += L.abdomen * 0.06;
  D += L.vessels.mul(open).mul(1.0 - ptx) * 0.15;
  D -= L.airway * 0.08;
  D += L.bone.mul(1.0 - L.abdomen * 0.5) * 0.25;
  D += L.dense;
  D += L.device * 0.7;
  return D;
}

void draw_marker(cv::Mat& v, const AcquisitionStyle& s) {
  if (s.marker.empty()) return;
  const int n = v.cols;
  const int font = cv::FONT_HERSHEY_SIMPLEX;
  const int thick = std::max(1, n / 110);
  int base = 0;
  cv::Size ts = cv::getTextSize(s.marker, font, 1.0, thick, &base);
  const double scale = 0.075 * n / std::max(1, ts.height);
  ts = cv::getTextSize(s.marker, font, scale, thick, &base);
  const int margin = static_cast<int>(std::lround((s.border + 0.03) * n));
  const bool right = s.marker_corner == 1 || s.marker_corner == 2;
  const bool bottom = s.marker_corner == 2 || s.marker_corner == 3;
  cv::Point org(right ? n - margin - ts.width : margin, bottom ? n - margin : margin + ts.height);
  cv::putText(v, s.marker, org, font, scale, cv::Scalar(1.0), thick, cv::LINE_8);
}

}  // namespace

cv::Mat render_radiograph(const PatientAnatomy& anatomy, const AcquisitionStyle& style, const StudyPose& pose,
                          const std::vector<Finding>& findings, int size, uint64_t seed) {
  if (size < kMinRadiographSize || size > kMaxRadiographSize)
    fail("render_radiograph: image size " + std::to_string(size) + " is outside [" +
         std::to_string(kMinRadiographSize) + ", " + std::to_string(kMaxRadiographSize) + "]");
  const int n = size * std::max(2, (256 + size - 1) / size);

  Rng frng = Rng(seed).fork("findings");
  const rgdetail::ShapeMods mods = rgdetail::plan_shape(anatomy, findings, frng);
  const rgdetail::Geometry g = rgdetail::build_geometry(anatomy, pose, mods);
  Layers L(n);
  rgdetail::draw_anatomy(g, anatomy, L);
  rgdetail::draw_findings(g, findings, frng, L);
  cv::Mat D = compose(L, anatomy.soft_density);

  // Study pose: rotation about the image centre plus a shift.
  cv::Mat M = cv::getRotationMatrix2D(cv::Point2f(n / 2.0f, n / 2.0f), pose.rotation_deg, 1.0);
  M.at<double>(0, 2) += pose.shift_x * n;
  M.at<double>(1, 2) += pose.shift_y * n;
  cv::Mat warped;
  cv::warpAffine(D, warped, M, D.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);

  // House style: blur, exposure/contrast, gamma, collimation, marker.
  rgdetail::soften(warped, style.blur);
  // Film/detector response: 1 - exp(-k D) compresses the dense end, so bone
  // over soft tissue shows less contrast than bone over lung.
  cv::Mat e;
  cv::exp(warped * -2.1, e);
  cv::Mat v = (1.0 - e) * (1.1 * style.contrast) + (style.exposure + 0.04);
  v = cv::min(cv::max(v, 0.0), 1.0);
  cv::pow(v, style.gamma, v);
  const int b = static_cast<int>(std::lround(style.border * n));
  if (b > 0) {
    const cv::Scalar bv(style.border_value);
    const int bt = b * 2 / 3;
    v(cv::Rect(0, 0, b, n)).setTo(bv);
    v(cv::Rect(n - b, 0, b, n)).setTo(bv);
    if (bt > 0) {
      v(cv::Rect(0, 0, n, bt)).setTo(bv);
      v(cv::Rect(0, n - bt, n, bt)).setTo(bv);
    }
  }
  draw_marker(v, style);

  cv::Mat out;
  cv::resize(v, out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  Rng nr = Rng(seed).fork("noise");
  const double ns = style.noise_sd;
  for (int y = 0; y < size; ++y) {
    float* row = out.ptr<float>(y);
    for (int x = 0; x < size; ++x) row[x] += static_cast<float>(nr.normal(0.0, ns));
  }
  cv::Mat img;
  out.convertTo(img, CV_8U, 255.0);
  return img;
}

namespace {

// Width in pixels of a uniform collimation band along one edge: lines (rows or
// columns, walking inwards) whose median matches the edge line's and whose
// spread is only noise. 0 when the edge itself is not uniform.
int frame_width(const cv::Mat& img, int edge) {
  const int n = edge % 2 == 0 ? img.cols : img.rows;  // lines to walk
  auto line = [&](int k) -> cv::Mat {
    switch (edge) {
      case 0: return img.col(k).clone().reshape(1, 1);        // left
      case 1: return img.row(k).clone();                      // top
      case 2: return img.col(img.cols - 1 - k).clone().reshape(1, 1);  // right
      default: return img.row(img.rows - 1 - k).clone();      // bottom
    }
  };
  auto stats = [](const cv::Mat& l, double& med, double& spread) {
    std::vector<uint8_t> v(l.begin<uint8_t>(), l.end<uint8_t>());
    std::sort(v.begin(), v.end());
    med = v[v.size() / 2];
    spread = v[v.size() * 9 / 10] - v[v.size() / 10];
  };
  double m0, s0;
  stats(line(0), m0, s0);
  if (s0 > 50) return 0;
  int k = 1;
  for (; k < n / 6; ++k) {
    double m, s;
    stats(line(k), m, s);
    if (std::abs(m - m0) > 6 || s > s0 + 8) break;
  }
  return k + 1;  // plus the line where the frame blends into the image
}

}  // namespace

cv::Mat augment_radiograph(const cv::Mat& img, Rng& rng) {
  if (img.empty() || img.type() != CV_8UC1) fail("augment_radiograph: expected a non-empty 8-bit grayscale image");
  static const std::vector<double> angles = {-5.0, -2.5, 2.5, 5.0};
  const double angle = rng.pick(angles);
  const double dx = rng.uniform(-0.01, 0.01) * img.cols, dy = rng.uniform(-0.01, 0.01) * img.rows;
  const double c = rng.uniform(0.85, 1.15), bright = rng.uniform(-12.0, 12.0), sd = rng.uniform(2.0, 5.0);
  Rng nr(rng.next());

  cv::Mat f;
  img.convertTo(f, CV_32F);
  cv::Mat M = cv::getRotationMatrix2D(cv::Point2f(img.cols / 2.0f, img.rows / 2.0f), angle, 1.0);
  M.at<double>(0, 2) += dx;
  M.at<double>(1, 2) += dy;
  // The patient turns; the detector's collimation frame does not: the frame is
  // replaced by the neighbouring image content for the warp and put back after.
  int fl = frame_width(img, 0), ft = frame_width(img, 1), fr = frame_width(img, 2), fb = frame_width(img, 3);
  if (fl + fr >= img.cols / 2 || ft + fb >= img.rows / 2) fl = ft = fr = fb = 0;
  cv::Mat core;
  cv::copyMakeBorder(f(cv::Rect(fl, ft, f.cols - fl - fr, f.rows - ft - fb)), core, ft, fb, fl, fr,
                     cv::BORDER_REPLICATE);
  cv::Mat w;
  cv::warpAffine(core, w, M, f.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  if (fl > 0) f.colRange(0, fl).copyTo(w.colRange(0, fl));
  if (fr > 0) f.colRange(f.cols - fr, f.cols).copyTo(w.colRange(f.cols - fr, f.cols));
  if (ft > 0) f.rowRange(0, ft).copyTo(w.rowRange(0, ft));
  if (fb > 0) f.rowRange(f.rows - fb, f.rows).copyTo(w.rowRange(f.rows - fb, f.rows));
  const double mean = cv::mean(w)[0];
  w = (w - mean) * c + (mean + bright);
  for (int y = 0; y < w.rows; ++y) {
    float* row = w.ptr<float>(y);
    for (int x = 0; x < w.cols; ++x) row[x] += static_cast<float>(nr.normal(0.0, sd));
  }
  cv::Mat out;
  w.convertTo(out, CV_8U);
  return out;
}

// ---- PNG I/O -----------------------------------------------------------------

std::vector<uint8_t> encode_png(const cv::Mat& img) {
  if (img.empty() || img.type() != CV_8UC1) fail("encode_png: expected a non-empty 8-bit grayscale image");
  std::vector<uint8_t> buf;
  const std::vector<int> params = {cv::IMWRITE_PNG_COMPRESSION, 6, cv::IMWRITE_PNG_STRATEGY,
                                   cv::IMWRITE_PNG_STRATEGY_DEFAULT};
  if (!cv::imencode(".png", img, buf, params)) fail("encode_png: OpenCV could not encode the image");
  return buf;
}

void write_png(const std::filesystem::path& p, const cv::Mat& img) {
  std::vector<uint8_t> bytes;
  try {
    bytes = encode_png(img);
  } catch (const Error& e) {
    fail(p.string() + ": " + e.what());
  }
  write_atomic(p, bytes);
}

cv::Mat read_png(const std::filesystem::path& p, int expected_size) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) fail(p.string() + ": image file not found (expected a PNG)");
  const std::vector<uint8_t> bytes = read_bytes(p);
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (bytes.size() < 8 || !std::equal(sig, sig + 8, bytes.begin()))
    fail(p.string() + ": not a PNG file (bad signature; expected an 8-bit grayscale PNG)");
  cv::Mat img;
  try {
    img = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    fail(p.string() + ": cannot decode PNG (" + e.what() + ")");
  }
  if (img.empty()) fail(p.string() + ": cannot decode PNG (corrupt or truncated data)");
  if (img.channels() != 1 || img.depth() != CV_8U)
    fail(p.string() + ": expected an 8-bit grayscale PNG, got " + std::to_string(img.channels()) +
         " channel(s) of " + (img.depth() == CV_8U ? "8" : "16") + "-bit data");
  if (expected_size > 0 && (img.rows != expected_size || img.cols != expected_size))
    fail(p.string() + ": expected a " + std::to_string(expected_size) + "x" + std::to_string(expected_size) +
         " image, got " + std::to_string(img.cols) + "x" + std::to_string(img.rows));
  return img;
}

}  // namespace medforget
