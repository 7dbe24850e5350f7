#pragma once
// Internals of the radiograph renderer shared by radiograph.cpp (pipeline and
// style), radiograph_anatomy.cpp (normal anatomy) and radiograph_findings.cpp
// (findings). Not part of the public API.
#include <cmath>
#include <vector>

#include <opencv2/core.hpp>

#include "data/radiograph.hpp"

namespace medforget::rgdetail {

using Poly = std::vector<cv::Point2d>;  // normalised [0,1] image coordinates

// A rib interrupted at parameter t along rib `rib` of `side`: an acute fracture
// (gap + step `offset`) or a healed one (callus, no gap).
struct RibBreak {
  int side = 0;
  int rib = 4;
  double t = 0.7;
  double offset = 0.0;
  bool healed = false;
  double strength = 1.0;
};

// Shape changes that findings make to the anatomy before it is drawn.
struct ShapeMods {
  double ctr = 0.44;             // cardiothoracic ratio to draw
  double mediastinum_width = 0.13;
  std::vector<RibBreak> breaks;
};

// One lung; side 0 = image left (patient's right), side 1 = image right.
struct LungGeom {
  Poly outline;             // closed polygon
  Poly lateral_wall;        // apex -> costophrenic angle
  Poly diaphragm;           // costophrenic angle -> medial end
  double sgn = 1;           // -1 for side 0, +1 for side 1 (direction away from midline)
  double apex_y = 0.14;
  double dome_y = 0.72;     // top of the hemidiaphragm dome
  double cp_y = 0.78;       // costophrenic angle
  double lateral_x = 0.1;   // x at the costophrenic angle
  double medial_x = 0.46;   // medial wall x (lower lung)
  cv::Point2d hilum;
};

struct Geometry {
  double cx = 0.5;
  double half_w = 0.39;
  LungGeom lung[2];
  cv::Point2d heart_center;
  cv::Size2d heart_axes;     // half axes
  double heart_angle_deg = 0;
  double heart_top = 0.45;
  double heart_right_x = 0.4, heart_left_x = 0.7;  // borders (image left / image right)
  double med_width = 0.13;
  double carina_y = 0.3;
  double trachea_x = 0.5;
  std::vector<Poly> ribs[2];  // posterior ribs, medial -> lateral
  std::vector<RibBreak> breaks;
};

// Density layers at internal resolution n x n, CV_32F. Composed in
// radiograph.cpp into one attenuation map.
struct Layers {
  int n = 256;
  cv::Mat body;     // soft-tissue mask (1 inside the patient)
  cv::Mat lung;     // aerated lung mask, both sides
  cv::Mat lung_side[2];
  cv::Mat cover;    // heart + mediastinum mask (hides the lung)
  cv::Mat heart;    // extra density of the heart
  cv::Mat abdomen;  // extra density below the diaphragm
  cv::Mat bone;     // ribs, spine, clavicles, humeri
  cv::Mat vessels;  // lung markings
  cv::Mat airway;   // trachea, bronchi, gastric bubble (darker)
  cv::Mat opacity;  // fills aerated lung (effusion, consolidation, ...); clipped to 1
  cv::Mat ptx;      // pneumothorax: darker, no markings
  cv::Mat dense;    // added as-is: nodules, pleural line, quirks
  cv::Mat device;   // radio-opaque tubes, wires and boxes
  explicit Layers(int n_);
};

inline cv::Point px(const cv::Point2d& p, int n) {
  return {static_cast<int>(std::lround(p.x * n)), static_cast<int>(std::lround(p.y * n))};
}
std::vector<cv::Point> to_px(const Poly& p, int n);
int thick_px(double t, int n);  // a normalised thickness in pixels, at least 1
// Gaussian blur with sigma given as a fraction of the image width.
void soften(cv::Mat& m, double sigma);
// Draws an open polyline (normalised) with a normalised thickness.
void draw_poly(cv::Mat& m, const Poly& p, double value, double thickness);
double strength_of(const Finding& f);   // severity scale (mild 0.6 .. severe 1.4)
double certainty_of(const Finding& f);  // 1 present, 0.5 uncertain

// radiograph_anatomy.cpp
Geometry build_geometry(const PatientAnatomy& a, const StudyPose& pose, const ShapeMods& mods);
void draw_anatomy(const Geometry& g, const PatientAnatomy& a, Layers& L);

// radiograph_findings.cpp (frng: the study's finding-placement stream)
ShapeMods plan_shape(const PatientAnatomy& a, const std::vector<Finding>& findings, Rng& frng);
void draw_findings(const Geometry& g, const std::vector<Finding>& findings, Rng& frng, Layers& L);

}  // namespace medforget::rgdetail
