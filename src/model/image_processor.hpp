#pragma once
// The Qwen2.5-VL image processor (transformers' Qwen2VLImageProcessor, PIL
// backend): smart resize to multiples of patch × merge within min_pixels /
// max_pixels, Pillow's bicubic resampling, rescale, normalisation with the
// processor's mean and std, and patch flattening in its order, giving
// pixel_values [grid_t·grid_h·grid_w, C·T·P·P] and image_grid_thw. Torch-free;
// checked against transformers' own output (tests/fixtures/hf).
#include <array>
#include <cstdint>
#include <filesystem>
#include <utility>
#include <vector>

#include "core/json.hpp"

namespace medforget {

struct ImageProcessorConfig {
  int patch_size = 14;
  int merge_size = 2;
  int temporal_patch_size = 2;
  int64_t min_pixels = 56 * 56;
  int64_t max_pixels = 28 * 28 * 1280;
  double rescale_factor = 1.0 / 255.0;
  std::array<double, 3> mean{0.48145466, 0.4578275, 0.40821073};  // OPENAI_CLIP_MEAN
  std::array<double, 3> std{0.26862954, 0.26130258, 0.27577711};  // OPENAI_CLIP_STD
  bool do_resize = true, do_rescale = true, do_normalize = true;

  // preprocessor_config.json: "size" {shortest_edge, longest_edge} or the older
  // top-level min_pixels / max_pixels. Errors name the file and the field.
  static ImageProcessorConfig from_json(const Json& j, const std::string& file);
  static ImageProcessorConfig load(const std::filesystem::path& preprocessor_config_json);
  Json to_json() const;
};

// transformers' smart_resize: (height, width) divisible by `factor`, the area
// within [min_pixels, max_pixels], the aspect ratio kept. Error for an empty
// image or an aspect ratio over 200, as transformers raises.
std::pair<int, int> smart_resize(int height, int width, int factor, int64_t min_pixels, int64_t max_pixels);

// Pillow's Image.resize(..., BICUBIC) of an 8-bit image, bit for bit: separable
// (horizontal, then vertical) convolution with the a = -0.5 cubic kernel, support
// widened by the scale when downsampling, fixed-point coefficients and an 8-bit
// intermediate. `src` is H×W×C interleaved.
std::vector<uint8_t> resize_bicubic_u8(const uint8_t* src, int height, int width, int channels, int out_height,
                                       int out_width);

struct ProcessedImage {
  std::vector<float> pixel_values;  // rows × cols, row-major
  int64_t rows = 0, cols = 0;
  std::array<int64_t, 3> grid_thw{0, 0, 0};
  int64_t num_image_tokens(int merge_size) const { return rows / (merge_size * merge_size); }
};

// One still image (H×W×3 RGB, or H×W×1 grayscale replicated to 3 channels, as
// do_convert_rgb does) repeated along time to temporal_patch_size frames.
ProcessedImage process_image(const uint8_t* src, int height, int width, int channels, const ImageProcessorConfig& cfg);

}  // namespace medforget
