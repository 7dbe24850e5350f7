#pragma once
// The position bookkeeping of Qwen2.5-VL, as transformers computes it
// (transformers' vision_utils and Qwen2_5_VLModel.get_rope_index): the vision
// tower's 2D rotary coordinates and window reordering, the attention spans of
// its windowed and full blocks, and the decoder's 3-axis multimodal RoPE
// positions for left- or right-padded batches. Torch-free, checked against
// tests/fixtures/hf.
#include <array>
#include <cstdint>
#include <vector>

namespace medforget {

using GridThw = std::array<int64_t, 3>;  // (t, h, w) in patches, as image_grid_thw

// (h, w) of every patch of every image, images in order, each image's patches
// in merge-block order (the order of the processor's pixel_values rows).
std::vector<std::array<int64_t, 2>> vision_rotary_positions(const std::vector<GridThw>& grids, int merge);

// Full-attention spans: cumulative patch counts per image frame ([0, h·w, ...]).
std::vector<int64_t> vision_cu_seqlens(const std::vector<GridThw>& grids);

struct VisionWindows {
  std::vector<int64_t> index;       // merged tokens (merge² patches each) in window order
  std::vector<int64_t> cu_seqlens;  // cumulative window lengths in patches, empty windows dropped
};
// Windows of window_size pixels (window_size / merge / patch merged tokens a
// side), partial at the right and bottom edges.
VisionWindows vision_windows(const std::vector<GridThw>& grids, int merge, int window_size, int patch);

struct RopeIndex {
  int64_t batch = 0, length = 0;
  std::vector<int64_t> positions;  // [3][batch][length]: temporal, height, width; 0 at padding
  std::vector<int64_t> deltas;     // [batch]: next position minus the number of real tokens
  int64_t at(int axis, int64_t b, int64_t t) const { return positions[static_cast<size_t>((axis * batch + b) * length + t)]; }
};
// ids and mask are [batch][length] row-major (mask 1 = real token). Each run of
// image_token_id tokens is one image and takes the next grid; text advances all
// three axes by one, an image spans its (h/merge, w/merge) grid from the current
// position and the text after it continues from max(h, w)/merge further.
// Error when runs and grids disagree.
RopeIndex rope_index(const std::vector<int64_t>& ids, const std::vector<int64_t>& mask, int64_t batch, int64_t length,
                     int64_t image_token_id, const std::vector<GridThw>& grids, int merge);

}  // namespace medforget
