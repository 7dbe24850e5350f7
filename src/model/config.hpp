#pragma once
// Model configuration: Hugging Face Qwen2.5-VL's config.json, read in both the
// transformers 4.x layout (text keys at the top level, rope_scaling) and the 5.x
// layout (text_config, rope_parameters), written in the 4.x layout that every
// transformers release reads. The image processor's settings travel with it
// (preprocessor_config.json). No torch headers here.
#include <string>
#include <vector>

#include "core/json.hpp"
#include "model/image_processor.hpp"

namespace medforget {

struct VisionConfig {
  int depth = 2;                 // ViT blocks
  int hidden_size = 64;          // vision width
  int intermediate_size = 128;   // gated MLP width
  int num_heads = 4;
  int in_channels = 3;           // RGB; a grayscale radiograph is replicated
  int patch_size = 8;            // pixels a side of one patch
  int temporal_patch_size = 2;   // frames per patch; a still image is repeated
  int spatial_merge_size = 2;    // merge² patches become one LM token
  int out_hidden_size = 64;      // merger output = LM hidden_size
  int window_size = 32;          // pixels a side of an attention window
  std::vector<int> fullatt_block_indexes{0};  // blocks with full (not windowed) attention
  int tokens_per_second = 2;     // video only; kept for round trips
  double rope_theta = 10000.0;   // 2D rotary base

  int head_dim() const { return hidden_size / num_heads; }
  int patch_dim() const { return in_channels * temporal_patch_size * patch_size * patch_size; }
  bool full_attention(int block) const;
};

struct ModelConfig {
  std::string model_type = "qwen2_5_vl";
  std::string preset;  // tiny | small | base | large ("" for a real checkpoint)
  int vocab_size = 0;  // taken from the tokenizer
  int hidden_size = 64;
  int intermediate_size = 176;
  int num_hidden_layers = 2;
  int num_attention_heads = 4;
  int num_key_value_heads = 2;
  int max_position_embeddings = 512;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::vector<int> mrope_section{2, 3, 3};  // temporal, height, width: sums to head_dim / 2
  bool tie_word_embeddings = false;
  std::string torch_dtype = "float32";
  // Special token ids, copied from the tokenizer.
  int pad_token_id = 0, bos_token_id = -1, eos_token_id = 0;
  int image_token_id = 0, vision_start_token_id = 0, vision_end_token_id = 0, video_token_id = -1;
  VisionConfig vision_config;
  ImageProcessorConfig image_processor;  // preprocessor_config.json, not part of config.json

  int head_dim() const { return hidden_size / num_attention_heads; }
  void validate() const;  // Error naming the inconsistent keys
  Json to_json() const;   // config.json (without the image processor)
  // config.json of either layout; the image processor stays at its defaults
  // until preprocessor_config.json is read.
  static ModelConfig from_json(const Json& j, const std::string& file);
};

// Architecture presets; vocab and special ids are filled in from the tokenizer.
ModelConfig model_preset(const std::string& name);  // tiny | small | base | large
const std::vector<std::string>& model_preset_names();
// A preset with a given vocabulary and placeholder special ids (pad 0, eos 2,
// vision start 3, vision end 4, image pad 5): for tests and benchmarks that
// feed token ids directly, without a tokenizer.
ModelConfig model_preset_with_ids(const std::string& name, int vocab_size);
// M-RoPE sections for a head dimension: the quarter-half split Qwen2.5-VL uses
// (16/24/24 of 64 for head_dim 128), scaled.
std::vector<int> default_mrope_section(int head_dim);
// The testbed's image processor: images resized to at most `image_size`² pixels
// (multiples of patch × merge), so a square radiograph of that side keeps its size.
ImageProcessorConfig testbed_image_processor(const VisionConfig& v, int image_size);

}  // namespace medforget
