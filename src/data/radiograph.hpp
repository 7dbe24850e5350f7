#pragma once
// Procedural chest radiographs: the image side of the synthetic corpus (a
// stand-in for MIMIC-CXR). A frontal (PA) chest film is rendered from three
// layers of parameters plus the study's findings:
//
//   PatientAnatomy   — persists across a patient's studies (thorax size/shape,
//                      heart, diaphragm, ribs, spine, clavicles, vessel pattern,
//                      an optional quirk such as a healed rib fracture), so an
//                      image identifies its patient;
//   AcquisitionStyle — the institution's house style (exposure, contrast, gamma,
//                      noise, blur, collimation border, a marker letter in an
//                      institution-specific corner), so an image identifies its
//                      institution;
//   StudyPose        — per study: small rotation, shift and inspiration depth.
//
// Coordinates in the parameter structs are normalised to the image: x in [0,1]
// left to right, y in [0,1] top to bottom. Radiological convention: the image is
// viewed as if facing the patient, so the patient's LEFT is on the IMAGE RIGHT
// (x > 0.5). Finding::laterality "left" therefore draws on the image right.
//
// Rendering happens at an internal resolution of at least 256 pixels (several
// times the output size) and is downsampled with cv::INTER_AREA. Every random
// choice goes through medforget::Rng: the same parameters and seed give the same
// bytes (on one platform/OpenCV build; OpenCV's SIMD paths may round floats
// differently on other CPUs).
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/json.hpp"
#include "data/findings.hpp"

namespace medforget {

class Rng;

constexpr int kMinRadiographSize = 32;
constexpr int kMaxRadiographSize = 512;

struct PatientAnatomy {
  double thorax_cx = 0.5;         // midline of the chest
  double thorax_width = 0.78;     // inner rib-cage width at the costophrenic angles
  double body_width = 0.94;       // soft-tissue outline width
  double soft_density = 0.48;     // soft-tissue attenuation (habitus)
  double lung_apex_y = 0.14;      // top of the lung apices
  double apex_width = 0.42;       // lung apex distance from the midline, fraction of half the thorax width
  double diaphragm_right_y = 0.72;  // dome top, patient's right (image left), at full inspiration
  double diaphragm_left_y = 0.75;   // dome top, patient's left (image right)
  double heart_ctr = 0.44;        // cardiothoracic ratio when healthy
  double heart_left_frac = 0.64;  // fraction of the heart width left of midline (image right)
  double heart_height = 0.20;
  double mediastinum_width = 0.13;
  double rib_spacing = 0.062;     // vertical distance between posterior ribs
  double rib_angle_deg = 22.0;    // downward slope of the lateral rib arcs
  double rib_thickness = 0.018;
  double spine_x = 0.5;
  double spine_width = 0.075;
  double clavicle_y = 0.18;       // medial end height
  double clavicle_angle_deg = 10.0;  // upward tilt towards the shoulder
  uint64_t vessel_seed = 1;       // the branching pattern of the lung markings
  std::string quirk = "none";     // "none", "healed_fracture", "surgical_clips", "sternotomy_wires"
  int quirk_side = 0;             // 0 = image left (patient's right), 1 = image right
  double quirk_pos = 0.5;         // where along the ribs / lung the quirk sits, [0,1]

  static PatientAnatomy sample(Rng& rng);
  Json to_json() const;
  // Throws Error naming `context` and the field when a key is missing or out of range.
  static PatientAnatomy from_json(const Json& j, const std::string& context = "anatomy");
};

struct AcquisitionStyle {
  double exposure = 0.0;   // brightness offset added before gamma, about [-0.1, 0.12]
  double contrast = 1.0;   // gain on the attenuation map
  double gamma = 1.0;      // output = value^gamma
  double noise_sd = 0.02;  // Gaussian noise sd, in [0,1] intensity units, per output pixel
  double blur = 0.004;     // Gaussian blur sigma as a fraction of the image width
  std::string marker = "L";  // "L", "R" or institution initials (1..3 characters)
  int marker_corner = 1;     // 0 top-left, 1 top-right, 2 bottom-right, 3 bottom-left
  double border = 0.03;      // collimation border width (fraction of the image)
  double border_value = 0.0; // intensity of the collimated-off border, [0,1]

  // index >= 0 spreads institutions apart deterministically (marker corner and
  // exposure band follow the index); index < 0 draws everything at random.
  static AcquisitionStyle sample(Rng& rng, int index = -1);
  Json to_json() const;
  static AcquisitionStyle from_json(const Json& j, const std::string& context = "style");
};

struct StudyPose {
  double rotation_deg = 0.0;  // patient rotation on the detector, about [-2, 2]
  double shift_x = 0.0;       // normalised shift, about [-0.015, 0.015]
  double shift_y = 0.0;
  double inspiration = 1.0;   // 1 = the patient's usual breath; >1 deeper (lower diaphragm)

  static StudyPose sample(Rng& rng);
  Json to_json() const;
  static StudyPose from_json(const Json& j, const std::string& context = "pose");
};

// Renders one frontal chest radiograph, CV_8UC1, size x size (size in
// [kMinRadiographSize, kMaxRadiographSize], else Error). `seed` drives the
// acquisition noise and where findings sit (which lobe, nodule positions, ...).
// Findings drawn: see the top of radiograph_findings.cpp; Certainty::Uncertain
// findings are drawn at about half strength. NoFinding and unknown details draw
// nothing extra.
cv::Mat render_radiograph(const PatientAnatomy& anatomy, const AcquisitionStyle& style,
                          const StudyPose& pose, const std::vector<Finding>& findings, int size,
                          uint64_t seed);

// The forget-rephrase view (stand-in for the paper's SV-DRR angular variants):
// rotation by one of -5, -2.5, +2.5, +5 degrees, a shift of up to 1%, a contrast /
// brightness change and noise, all drawn from `rng`. A uniform collimation
// frame along the edges is detected and kept in place (the patient turns, the
// detector does not). Same size and type as `img`
// (CV_8UC1 required, else Error).
cv::Mat augment_radiograph(const cv::Mat& img, Rng& rng);

// PNG bytes of a CV_8UC1 image with fixed encoder settings (deterministic).
std::vector<uint8_t> encode_png(const cv::Mat& img);
// Writes encode_png(img) atomically.
void write_png(const std::filesystem::path& p, const cv::Mat& img);
// Reads an 8-bit grayscale PNG. Throws Error naming the file when it is missing,
// not a decodable PNG, not single-channel 8-bit, or not expected_size square
// (expected_size <= 0 accepts any size).
cv::Mat read_png(const std::filesystem::path& p, int expected_size);

}  // namespace medforget
