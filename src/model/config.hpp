#pragma once
// Model configuration with Hugging Face Qwen2.5-VL key names, so config.json
// reads like a real checkpoint's. No torch headers here.
#include <string>
#include <vector>

#include "core/json.hpp"

namespace medforget {

struct VisionConfig {
  int image_size = 64;         // square, grayscale input
  int in_chans = 1;
  int patch_size = 8;          // HF: patch_size
  int spatial_merge_size = 2;  // 2x2 patches merge into one LM token
  int hidden_size = 64;        // HF: hidden_size (vision width)
  int depth = 2;               // HF: depth (number of ViT blocks)
  int num_heads = 4;
  int intermediate_size = 128;
  int out_hidden_size = 64;    // merger output = LM hidden_size
  int patches_per_side() const { return image_size / patch_size; }
  int num_patches() const { return patches_per_side() * patches_per_side(); }
  // LM tokens per image after the spatial merge.
  int num_image_tokens() const { return num_patches() / (spatial_merge_size * spatial_merge_size); }
};

struct ModelConfig {
  std::string model_type = "qwen2_5_vl";
  std::string preset;  // tiny | small | base | large ("" when hand-made)
  int vocab_size = 0;  // taken from the tokenizer
  int hidden_size = 64;
  int intermediate_size = 176;
  int num_hidden_layers = 2;
  int num_attention_heads = 4;
  int num_key_value_heads = 2;
  int max_position_embeddings = 512;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = false;
  std::string torch_dtype = "float32";
  // Special token ids, copied from the tokenizer.
  int pad_token_id = 0, bos_token_id = -1, eos_token_id = 0;
  int image_token_id = 0, vision_start_token_id = 0, vision_end_token_id = 0;
  VisionConfig vision_config;

  int head_dim() const { return hidden_size / num_attention_heads; }
  void validate() const;  // Error naming the inconsistent keys
  Json to_json() const;
  static ModelConfig from_json(const Json& j, const std::string& file);
};

// Architecture presets; vocab and special ids are filled in from the tokenizer.
ModelConfig model_preset(const std::string& name);  // tiny | small | base | large
const std::vector<std::string>& model_preset_names();
// A preset with a given vocabulary and placeholder special ids (pad 0, eos 2,
// vision start 3, vision end 4, image pad 5): for tests and benchmarks that
// feed token ids directly, without a tokenizer.
ModelConfig model_preset_with_ids(const std::string& name, int vocab_size);

}  // namespace medforget
