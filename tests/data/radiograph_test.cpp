// Procedural chest radiographs: determinism, findings drawn where they belong,
// patient and institution identity, augmentation, PNG I/O errors.
#include "data/radiograph.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/rng.hpp"
#include "test_util.hpp"

namespace medforget {
namespace {

PatientAnatomy patient(uint64_t seed) {
  Rng r(seed);
  return PatientAnatomy::sample(r);
}

// A clean, neutral house style so that finding effects are measured without
// much noise.
AcquisitionStyle quiet_style() {
  AcquisitionStyle s;
  s.exposure = 0.0;
  s.contrast = 1.0;
  s.gamma = 1.0;
  s.noise_sd = 0.004;
  s.blur = 0.003;
  s.marker = "L";
  s.marker_corner = 1;
  s.border = 0.0;
  return s;
}

Finding make(Observation o, std::string lat = "", std::string sev = "", std::string detail = "",
             Certainty c = Certainty::Present) {
  Finding f;
  f.obs = o;
  f.certainty = c;
  f.laterality = std::move(lat);
  f.severity = std::move(sev);
  f.detail = std::move(detail);
  return f;
}

cv::Mat render(const PatientAnatomy& a, const std::vector<Finding>& f, int size = 128, uint64_t seed = 5,
               const AcquisitionStyle& s = quiet_style(), const StudyPose& p = StudyPose{}) {
  return render_radiograph(a, s, p, f, size, seed);
}

// Mean intensity of a rectangle given in normalised coordinates.
double zone_mean(const cv::Mat& img, double x0, double x1, double y0, double y1) {
  const int n = img.cols;
  cv::Rect r(static_cast<int>(x0 * n), static_cast<int>(y0 * n), static_cast<int>((x1 - x0) * n),
             static_cast<int>((y1 - y0) * n));
  return cv::mean(img(r & cv::Rect(0, 0, n, n)))[0];
}

double mad(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  return cv::mean(d)[0];
}

double correlation(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat fa, fb;
  a.convertTo(fa, CV_64F);
  b.convertTo(fb, CV_64F);
  fa -= cv::mean(fa)[0];
  fb -= cv::mean(fb)[0];
  return fa.dot(fb) / std::sqrt(fa.dot(fa) * fb.dot(fb));
}

// Width (fraction of the image) of the bright run through the midline at row y:
// pixels brighter than halfway between the lungs and the heart.
double bright_width(const cv::Mat& img, double y, double cx, double lung_level) {
  const int n = img.cols;
  const int row = static_cast<int>(y * n), c = static_cast<int>(cx * n);
  const double centre = img.at<uint8_t>(row, c);
  const double thr = 0.5 * (centre + lung_level);
  int l = c, r = c;
  while (l > 0 && img.at<uint8_t>(row, l - 1) > thr) --l;
  while (r < n - 1 && img.at<uint8_t>(row, r + 1) > thr) ++r;
  return static_cast<double>(r - l + 1) / n;
}

// The acquisition noise level: the sd of the difference between two renders
// that differ only in their noise seed, over sqrt(2).
double noise_level(const PatientAnatomy& a, const AcquisitionStyle& s) {
  cv::Mat d;
  cv::subtract(render_radiograph(a, s, StudyPose{}, {}, 64, 1), render_radiograph(a, s, StudyPose{}, {}, 64, 2), d,
               cv::noArray(), CV_32F);
  cv::Scalar m, sd;
  cv::meanStdDev(d, m, sd);
  return sd[0] / std::sqrt(2.0);
}

TEST(Radiograph, SameSeedsGiveIdenticalPngBytes) {
  const auto a = patient(11);
  Rng sr(3);
  const auto s = AcquisitionStyle::sample(sr, 1);
  Rng pr(4);
  const auto p = StudyPose::sample(pr);
  const std::vector<Finding> f = {make(Observation::PleuralEffusion, "left", "small"),
                                  make(Observation::SupportDevices, "", "", "endotracheal tube")};
  const auto b1 = encode_png(render_radiograph(a, s, p, f, 64, 77));
  const auto b2 = encode_png(render_radiograph(patient(11), s, p, f, 64, 77));
  EXPECT_EQ(b1, b2);
  const auto b3 = encode_png(render_radiograph(a, s, p, f, 64, 78));
  EXPECT_NE(b1, b3);

  test::TempDir dir;
  write_png(dir / "a.png", render_radiograph(a, s, p, f, 64, 77));
  write_png(dir / "b.png", render_radiograph(a, s, p, f, 64, 77));
  EXPECT_EQ(read_bytes(dir / "a.png"), read_bytes(dir / "b.png"));
  EXPECT_EQ(read_bytes(dir / "a.png"), b1);
}

TEST(Radiograph, SamplingIsDeterministicAndJsonRoundTrips) {
  Rng r1(9), r2(9);
  const auto a1 = PatientAnatomy::sample(r1), a2 = PatientAnatomy::sample(r2);
  EXPECT_EQ(a1.to_json(), a2.to_json());
  EXPECT_EQ(PatientAnatomy::from_json(a1.to_json()).to_json(), a1.to_json());
  Rng r3(10);
  const auto s = AcquisitionStyle::sample(r3, 2);
  EXPECT_EQ(AcquisitionStyle::from_json(s.to_json()).to_json(), s.to_json());
  EXPECT_EQ(s.marker_corner, 2);
  const auto p = StudyPose::sample(r3);
  EXPECT_EQ(StudyPose::from_json(p.to_json()).to_json(), p.to_json());
  // A rendered image from round-tripped parameters is identical.
  EXPECT_EQ(encode_png(render_radiograph(a1, s, p, {}, 48, 1)),
            encode_png(render_radiograph(PatientAnatomy::from_json(a1.to_json()),
                                         AcquisitionStyle::from_json(s.to_json()),
                                         StudyPose::from_json(p.to_json()), {}, 48, 1)));

  Json bad = a1.to_json();
  bad.erase("heart_ctr");
  try {
    PatientAnatomy::from_json(bad, "corpus.json: patient_0003");
    FAIL() << "expected Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("patient_0003"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("heart_ctr"), std::string::npos) << e.what();
  }
  Json badq = a1.to_json();
  badq["quirk"] = "tattoo";
  EXPECT_THROW(PatientAnatomy::from_json(badq), Error);
  Json bads = s.to_json();
  bads["gamma"] = "high";
  EXPECT_THROW(AcquisitionStyle::from_json(bads), Error);
}

TEST(Radiograph, AnySizeFrom32To512) {
  const auto a = patient(1);
  for (int size : {32, 64, 100, 256, 512}) {
    cv::Mat img = render(a, {}, size);
    EXPECT_EQ(img.type(), CV_8UC1);
    EXPECT_EQ(img.rows, size);
    EXPECT_EQ(img.cols, size);
    // Lungs darker than the mediastinum at every size.
    EXPECT_LT(zone_mean(img, 0.2, 0.32, 0.35, 0.5), zone_mean(img, 0.47, 0.53, 0.35, 0.5) - 20) << size;
  }
  EXPECT_THROW(render(a, {}, 31), Error);
  EXPECT_THROW(render(a, {}, 513), Error);
}

TEST(Radiograph, NormalAnatomyIsLaidOutLikeAChestFilm) {
  const auto a = patient(2);
  const cv::Mat img = render(a, {}, 128);
  const double lung_r = zone_mean(img, a.thorax_cx - 0.3, a.thorax_cx - 0.18, 0.35, 0.55);
  const double lung_l = zone_mean(img, a.thorax_cx + 0.18, a.thorax_cx + 0.3, 0.35, 0.55);
  const double mediastinum = zone_mean(img, a.thorax_cx - 0.03, a.thorax_cx + 0.03, 0.35, 0.55);
  const double abdomen = zone_mean(img, a.thorax_cx - 0.25, a.thorax_cx + 0.25, 0.88, 0.97);
  const double outside = zone_mean(img, a.thorax_cx + 0.15, a.thorax_cx + 0.3, 0.0, 0.05);
  EXPECT_GT(mediastinum, lung_r + 40);
  EXPECT_GT(mediastinum, lung_l + 40);
  EXPECT_GT(abdomen, lung_r + 40);
  EXPECT_LT(outside, lung_r);  // air outside the patient is darkest
  EXPECT_NEAR(lung_r, lung_l, 25);
}

TEST(Radiograph, LeftEffusionWhitensTheImageRightBaseOnly) {
  const auto a = patient(3);
  const cv::Mat base = render(a, {});
  const cv::Mat eff = render(a, {make(Observation::PleuralEffusion, "left", "moderate")});
  const double y0 = a.diaphragm_left_y - 0.06, y1 = a.diaphragm_left_y + 0.03;
  // Patient's left = image right.
  const double d_left = zone_mean(eff, a.thorax_cx + 0.2, a.thorax_cx + 0.35, y0, y1) -
                        zone_mean(base, a.thorax_cx + 0.2, a.thorax_cx + 0.35, y0, y1);
  const double d_right = zone_mean(eff, a.thorax_cx - 0.35, a.thorax_cx - 0.2, y0, y1) -
                         zone_mean(base, a.thorax_cx - 0.35, a.thorax_cx - 0.2, y0, y1);
  EXPECT_GT(d_left, 20);
  EXPECT_LT(std::abs(d_right), 2);
  // Upper lung untouched.
  EXPECT_LT(std::abs(zone_mean(eff, 0.6, 0.8, 0.25, 0.4) - zone_mean(base, 0.6, 0.8, 0.25, 0.4)), 2);

  // Severity scales the fluid height: a large effusion reaches higher.
  const cv::Mat big = render(a, {make(Observation::PleuralEffusion, "left", "large")});
  const double yh0 = a.diaphragm_left_y - 0.15, yh1 = a.diaphragm_left_y - 0.08;
  const double zx0 = a.thorax_cx + 0.2, zx1 = a.thorax_cx + 0.35;
  EXPECT_GT(zone_mean(big, zx0, zx1, yh0, yh1), zone_mean(eff, zx0, zx1, yh0, yh1) + 5);

  // Uncertain is drawn fainter but still visible.
  const cv::Mat unc =
      render(a, {make(Observation::PleuralEffusion, "left", "moderate", "", Certainty::Uncertain)});
  const double d_unc = zone_mean(unc, zx0, zx1, y0, y1) - zone_mean(base, zx0, zx1, y0, y1);
  EXPECT_GT(d_unc, 4);
  EXPECT_LT(d_unc, 0.8 * d_left);

  // Bilateral: both bases.
  const cv::Mat bi = render(a, {make(Observation::PleuralEffusion, "bilateral", "moderate")});
  EXPECT_GT(zone_mean(bi, a.thorax_cx - 0.35, a.thorax_cx - 0.2, y0 - 0.02, y1 - 0.02) -
                zone_mean(base, a.thorax_cx - 0.35, a.thorax_cx - 0.2, y0 - 0.02, y1 - 0.02),
            15);
}

TEST(Radiograph, CardiomegalyWidensTheHeartPastHalfTheThorax) {
  for (uint64_t pid : {4, 5, 6}) {
    const auto a = patient(pid);
    const cv::Mat base = render(a, {}, 256);
    const cv::Mat big = render(a, {make(Observation::Cardiomegaly, "", "moderate")}, 256);
    const double lung = zone_mean(base, a.thorax_cx - 0.3, a.thorax_cx - 0.2, 0.35, 0.5);
    const double y = std::min(a.diaphragm_left_y, a.diaphragm_right_y) - 0.06;
    double w0 = 0, w1 = 0;
    for (double dy = -0.03; dy <= 0.0; dy += 0.01) {
      w0 = std::max(w0, bright_width(base, y + dy, a.thorax_cx, lung));
      w1 = std::max(w1, bright_width(big, y + dy, a.thorax_cx, lung));
    }
    EXPECT_GT(w1, w0 * 1.12) << "patient " << pid;
    EXPECT_GT(w1 / a.thorax_width, 0.5) << "patient " << pid;
    EXPECT_LT(w0 / a.thorax_width, 0.52) << "patient " << pid;
  }
}

TEST(Radiograph, EnlargedCardiomediastinumWidensTheUpperMediastinum) {
  const auto a = patient(7);
  const cv::Mat base = render(a, {}, 256);
  const cv::Mat wide = render(a, {make(Observation::EnlargedCardiomediastinum, "", "moderate")}, 256);
  const double lung = zone_mean(base, a.thorax_cx - 0.3, a.thorax_cx - 0.2, 0.35, 0.5);
  const double y = a.lung_apex_y + 0.12;
  EXPECT_GT(bright_width(wide, y, a.thorax_cx, lung), bright_width(base, y, a.thorax_cx, lung) * 1.2);
}

TEST(Radiograph, PneumothoraxDarkensTheApexOnItsSide) {
  const auto a = patient(8);
  const cv::Mat base = render(a, {});
  const cv::Mat ptx = render(a, {make(Observation::Pneumothorax, "right", "moderate")});
  const double y0 = a.lung_apex_y + 0.01, y1 = a.lung_apex_y + 0.12;
  // Patient's right = image left.
  const double d_side = zone_mean(ptx, a.thorax_cx - 0.33, a.thorax_cx - 0.12, y0, y1) -
                        zone_mean(base, a.thorax_cx - 0.33, a.thorax_cx - 0.12, y0, y1);
  const double d_other = zone_mean(ptx, a.thorax_cx + 0.12, a.thorax_cx + 0.33, y0, y1) -
                         zone_mean(base, a.thorax_cx + 0.12, a.thorax_cx + 0.33, y0, y1);
  EXPECT_LT(d_side, -4);
  EXPECT_LT(std::abs(d_other), 1.5);
}

TEST(Radiograph, DevicesAddBrightThinStructures) {
  const auto a = patient(9);
  const cv::Mat base = render(a, {});
  for (const char* detail : {"endotracheal tube", "nasogastric tube", "right internal jugular central line",
                             "pacemaker", ""}) {
    const cv::Mat dev = render(a, {make(Observation::SupportDevices, "", "", detail)});
    cv::Mat diff;
    cv::subtract(dev, base, diff, cv::noArray(), CV_32F);
    const int bright = cv::countNonZero(diff > 25);
    EXPECT_GT(bright, 15) << detail;
    EXPECT_LT(bright, 0.06 * dev.total()) << detail;  // thin, not a region
    double mx0, mx1;
    cv::minMaxLoc(base, nullptr, &mx0);
    cv::minMaxLoc(dev, nullptr, &mx1);
    EXPECT_GE(mx1, mx0) << detail;
    EXPECT_LT(cv::countNonZero(diff < -3), 5) << detail;  // nothing gets darker
  }
}

struct SidedCase {
  Finding f;
  int side;  // 0 image left, 1 image right
  double y0, y1;  // the zone, as fractions from lung apex (0) to diaphragm (1)
  double min_rise;
};

TEST(Radiograph, OpacitiesAppearOnTheirSide) {
  const auto a = patient(12);
  const cv::Mat base = render(a, {});
  const std::vector<SidedCase> cases = {
      {make(Observation::Consolidation, "left", "", "left lower lobe"), 1, 0.6, 0.95, 8},
      {make(Observation::Pneumonia, "right", "", "right upper lobe"), 0, 0.1, 0.45, 6},
      {make(Observation::LungOpacity, "left", "", "lingula"), 1, 0.35, 0.72, 4},
      {make(Observation::Atelectasis, "right", "", ""), 0, 0.75, 1.0, 4},
      {make(Observation::PleuralOther, "left", "", ""), 1, 0.1, 0.9, 2},
      {make(Observation::LungLesion, "right", "", "mass"), 0, 0.1, 0.85, 1.5},
  };
  for (const auto& c : cases) {
    const cv::Mat img = render(a, {c.f});
    const double dome = c.side == 0 ? a.diaphragm_right_y : a.diaphragm_left_y;
    const double y0 = a.lung_apex_y + c.y0 * (dome - a.lung_apex_y);
    const double y1 = a.lung_apex_y + c.y1 * (dome - a.lung_apex_y);
    const double sx = c.side == 0 ? -1 : 1;
    auto rise = [&](double s) {
      const double x0 = a.thorax_cx + s * 0.1, x1 = a.thorax_cx + s * 0.38;
      return zone_mean(img, std::min(x0, x1), std::max(x0, x1), y0, y1) -
             zone_mean(base, std::min(x0, x1), std::max(x0, x1), y0, y1);
    };
    const int obs = static_cast<int>(c.f.obs);
    EXPECT_GT(rise(sx), c.min_rise) << "observation " << obs;
    EXPECT_LT(std::abs(rise(-sx)), 1.0) << "observation " << obs;
  }
}

TEST(Radiograph, EdemaIsBilateralAndPerihilar) {
  const auto a = patient(13);
  const cv::Mat base = render(a, {});
  const cv::Mat ed = render(a, {make(Observation::Edema, "bilateral", "moderate")});
  const double y0 = 0.35, y1 = 0.5;
  for (double s : {-1.0, 1.0}) {
    const double xa = a.thorax_cx + s * 0.1, xb = a.thorax_cx + s * 0.22;
    const double inner = zone_mean(ed, std::min(xa, xb), std::max(xa, xb), y0, y1) -
                         zone_mean(base, std::min(xa, xb), std::max(xa, xb), y0, y1);
    const double xc = a.thorax_cx + s * 0.3, xd = a.thorax_cx + s * 0.37;
    const double outer = zone_mean(ed, std::min(xc, xd), std::max(xc, xd), y0, y1) -
                         zone_mean(base, std::min(xc, xd), std::max(xc, xd), y0, y1);
    EXPECT_GT(inner, 10) << s;
    EXPECT_GT(inner, outer + 4) << s;  // perihilar, not peripheral
  }
}

TEST(Radiograph, FractureIsALocalRibChange) {
  const auto a = patient(14);
  const cv::Mat base = render(a, {}, 256);
  const cv::Mat fx = render(a, {make(Observation::Fracture, "left")}, 256);
  cv::Mat diff;
  cv::absdiff(fx, base, diff);
  std::vector<cv::Point> pts;
  cv::findNonZero(diff > 12, pts);
  ASSERT_GT(pts.size(), 10u);
  const cv::Rect box = cv::boundingRect(pts);
  EXPECT_LT(box.width, 0.2 * 256);
  EXPECT_LT(box.height, 0.15 * 256);
  EXPECT_GT(box.x, a.thorax_cx * 256);  // patient's left = image right
}

TEST(Radiograph, StudiesOfOnePatientAreCloserThanOtherPatients) {
  Rng sr(21);
  const auto style = AcquisitionStyle::sample(sr, 0);
  const std::vector<Finding> f = {make(Observation::PleuralEffusion, "right", "small")};
  for (uint64_t pid = 30; pid < 34; ++pid) {
    const auto a = patient(pid), b = patient(pid + 100);
    Rng p1(pid * 3 + 1), p2(pid * 3 + 2), p3(pid * 3 + 3);
    const cv::Mat a1 = render(a, f, 64, 1, style, StudyPose::sample(p1));
    const cv::Mat a2 = render(a, f, 64, 2, style, StudyPose::sample(p2));
    const cv::Mat b1 = render(b, f, 64, 3, style, StudyPose::sample(p3));
    EXPECT_LT(mad(a1, a2), mad(a1, b1)) << "patient " << pid;
  }
}

TEST(Radiograph, InstitutionsHaveMeasurablyDifferentStyles) {
  const auto a = patient(40);
  Rng r0(50), r1(51);
  const auto s0 = AcquisitionStyle::sample(r0, 0);  // darkest exposure band, low noise
  const auto s1 = AcquisitionStyle::sample(r1, 7);  // brightest exposure band, high noise
  const cv::Mat i0 = render(a, {}, 64, 1, s0), i1 = render(a, {}, 64, 1, s1);
  EXPECT_GT(std::abs(cv::mean(i0)[0] - cv::mean(i1)[0]), 8);
  EXPECT_GT(noise_level(a, s1), 1.5 * noise_level(a, s0));
  EXPECT_NE(s0.marker_corner, s1.marker_corner);

  // The marker sits in its corner: that corner differs from the unmarked image.
  AcquisitionStyle none = quiet_style(), marked = quiet_style();
  none.marker = "";
  marked.marker = "R";
  marked.marker_corner = 3;  // bottom left
  const cv::Mat m0 = render(a, {}, 128, 1, none), m1 = render(a, {}, 128, 1, marked);
  EXPECT_GT(zone_mean(m1, 0.0, 0.2, 0.8, 1.0), zone_mean(m0, 0.0, 0.2, 0.8, 1.0) + 3);
  EXPECT_LT(std::abs(zone_mean(m1, 0.8, 1.0, 0.0, 0.2) - zone_mean(m0, 0.8, 1.0, 0.0, 0.2)), 0.5);
}

TEST(Radiograph, AugmentationChangesButStaysCorrelated) {
  cv::Mat img;
  for (int inst = 0; inst < 8; ++inst) {  // every house style, including white collimation frames
    Rng sr(60 + inst), pr(80 + inst);
    img = render(patient(60 + inst), {make(Observation::Cardiomegaly)}, 64, inst, AcquisitionStyle::sample(sr, inst),
                 StudyPose::sample(pr));
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      Rng r1(seed), r2(seed);
      const cv::Mat aug = augment_radiograph(img, r1);
      EXPECT_EQ(aug.type(), CV_8UC1);
      EXPECT_EQ(aug.size(), img.size());
      EXPECT_GT(mad(aug, img), 2.0) << inst << " " << seed;
      EXPECT_GT(correlation(aug, img), 0.8) << inst << " " << seed;
      EXPECT_EQ(encode_png(aug), encode_png(augment_radiograph(img, r2)));
    }
  }
  Rng ra(1), rb(2);
  EXPECT_NE(encode_png(augment_radiograph(img, ra)), encode_png(augment_radiograph(img, rb)));
  cv::Mat color(64, 64, CV_8UC3, cv::Scalar(1, 2, 3));
  Rng rc(1);
  EXPECT_THROW(augment_radiograph(color, rc), Error);
}

void expect_error_mentions(const std::function<void()>& fn, const std::string& what) {
  try {
    fn();
    FAIL() << "expected Error mentioning " << what;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(Radiograph, ReadPngValidatesTheFile) {
  test::TempDir dir;
  const cv::Mat img = render(patient(70), {}, 64);
  write_png(dir / "ok.png", img);
  const cv::Mat back = read_png(dir / "ok.png", 64);
  EXPECT_EQ(cv::countNonZero(back != img), 0);
  EXPECT_EQ(read_png(dir / "ok.png", 0).rows, 64);

  expect_error_mentions([&] { read_png(dir / "missing.png", 64); }, "missing.png");

  Rng r(71);
  std::string junk(500, '\0');
  for (char& c : junk) c = static_cast<char>(r.randint(0, 255));
  write_atomic(dir / "junk.png", junk);
  expect_error_mentions([&] { read_png(dir / "junk.png", 64); }, "junk.png");

  // A PNG signature followed by garbage.
  std::string trunc = "\x89PNG\r\n\x1a\n" + junk;
  write_atomic(dir / "trunc.png", trunc);
  expect_error_mentions([&] { read_png(dir / "trunc.png", 64); }, "trunc.png");

  // Half of a valid file.
  const auto bytes = encode_png(img);
  write_atomic(dir / "half.png", std::vector<uint8_t>(bytes.begin(), bytes.begin() + bytes.size() / 2));
  expect_error_mentions([&] { read_png(dir / "half.png", 64); }, "half.png");

  expect_error_mentions([&] { read_png(dir / "ok.png", 128); }, "expected a 128x128");

  std::vector<uint8_t> color_bytes;
  cv::imencode(".png", cv::Mat(64, 64, CV_8UC3, cv::Scalar(10, 20, 30)), color_bytes);
  write_atomic(dir / "color.png", color_bytes);
  expect_error_mentions([&] { read_png(dir / "color.png", 64); }, "grayscale");

  EXPECT_THROW(write_png(dir / "bad.png", cv::Mat(8, 8, CV_32F, cv::Scalar(0))), Error);
}

}  // namespace
}  // namespace medforget
