#pragma once
// Qwen2.5-VL, as transformers computes it: a windowed ViT with 2D rotary
// positions over the image processor's patches → patch merger → Qwen2 decoder
// with multimodal (3-axis) RoPE. The testbed presets and real checkpoints run
// through this one implementation. Parameter names follow the Hugging Face checkpoint
// ("visual.blocks.0.attn.qkv.weight", "visual.merger.mlp.0.weight",
// "model.layers.3.mlp.gate_proj.weight", "lm_head.weight").
#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/config.hpp"
#include "model/qwen_positions.hpp"
#include "model/taps.hpp"

namespace medforget {

// A LoRA adapter's parameter ("….lora_A.weight"): never part of a checkpoint.
inline bool is_lora_name(const std::string& name) {
  return name.find(".lora_A.") != std::string::npos || name.find(".lora_B.") != std::string::npos;
}

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);
// Softmax attention of q [.., H, Tq, hd] over k, v [.., H, Tk, hd] with an
// additive mask broadcast to the scores; softmax in float32, as transformers'
// eager attention.
torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& mask);

// SwiGLU MLP: down(silu(gate(x)) * up(x)); used by both towers.
class SwiGluImpl : public torch::nn::Module {
 public:
  SwiGluImpl(int64_t dim, int64_t hidden, bool bias);
  torch::Tensor forward(const torch::Tensor& x);
  TapLinear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(SwiGlu);

// Variable-length attention spans over packed rows (from cu_seqlens), padded to
// the longest so every span attends in one batched product.
struct AttentionSpans {
  torch::Tensor gather;  // [S·L] row index of each slot (0 for empty slots)
  torch::Tensor mask;    // [S, 1, 1, L] additive: 0 for real keys, -inf-like for empty slots
  torch::Tensor filled;  // [rows] slot of each row, in row order
  int64_t spans = 0, length = 0;
  static AttentionSpans from_cu_seqlens(const std::vector<int64_t>& cu, const torch::Device& device);
};

class VisionAttentionImpl : public torch::nn::Module {
 public:
  VisionAttentionImpl(int64_t dim, int64_t heads);
  // x [rows, D]; cos/sin [rows, head_dim]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const AttentionSpans& spans);
  TapLinear qkv{nullptr}, proj{nullptr};
  int64_t heads;
};
TORCH_MODULE(VisionAttention);

class VisionBlockImpl : public torch::nn::Module {
 public:
  explicit VisionBlockImpl(const VisionConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const AttentionSpans& spans);
  RMSNorm norm1{nullptr}, norm2{nullptr};
  VisionAttention attn{nullptr};
  SwiGlu mlp{nullptr};
};
TORCH_MODULE(VisionBlock);

// ln_q, then merge² neighbouring patches (consecutive rows) → mlp.0, GELU, mlp.2.
class PatchMergerImpl : public torch::nn::Module {
 public:
  explicit PatchMergerImpl(const VisionConfig& c);
  torch::Tensor forward(const torch::Tensor& x);  // [rows, D] → [rows / merge², out_hidden]
  RMSNorm ln_q{nullptr};
  torch::nn::ModuleList mlp;  // 0: TapLinear, 1: GELU, 2: TapLinear
  TapLinear fc1{nullptr}, fc2{nullptr};
  int64_t unit;
};
TORCH_MODULE(PatchMerger);

// Conv3d over temporal_patch_size × patch × patch with stride = kernel and no
// bias: on the processor's flattened patches it is one matrix product.
class PatchEmbedImpl : public torch::nn::Module {
 public:
  explicit PatchEmbedImpl(const VisionConfig& c);
  torch::Tensor forward(const torch::Tensor& pixel_values);  // [rows, C·T·P·P] → [rows, D]
  torch::nn::Conv3d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

class VisionTowerImpl : public torch::nn::Module {
 public:
  explicit VisionTowerImpl(const VisionConfig& c);
  // pixel_values [Σ t·h·w, C·T·P·P] as the image processor gives them, one grid
  // per image → image tokens [Σ t·h·w / merge², out_hidden] in the same order.
  // image_rows: the batch row of each image (for the taps), batch_size rows.
  torch::Tensor forward(const torch::Tensor& pixel_values, const std::vector<GridThw>& grids,
                        const std::vector<int64_t>& image_rows, int64_t batch_size, Taps* taps);
  VisionConfig cfg;
  PatchEmbed patch_embed{nullptr};
  torch::nn::ModuleList blocks;
  PatchMerger merger{nullptr};

 private:
  torch::Tensor inv_freq_;  // [head_dim / 4] 2D rotary frequencies
};
TORCH_MODULE(VisionTower);

// Keys/values of earlier positions, for incremental decoding.
struct KVCache {
  std::vector<torch::Tensor> k, v;  // per layer: [B, Hkv, T_past, hd]
  torch::Tensor key_mask;           // [B, T_past] bool: real (non-pad) keys
  torch::Tensor next_pos;           // [B] int64: M-RoPE position of the next token (all three axes)
  int64_t length() const { return key_mask.defined() ? key_mask.size(1) : 0; }
};

class DecoderAttentionImpl : public torch::nn::Module {
 public:
  explicit DecoderAttentionImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& mask, torch::Tensor* k_cache, torch::Tensor* v_cache);
  TapLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  int64_t heads, kv_heads, head_dim;
};
TORCH_MODULE(DecoderAttention);

class DecoderLayerImpl : public torch::nn::Module {
 public:
  explicit DecoderLayerImpl(const ModelConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& mask, torch::Tensor* k_cache, torch::Tensor* v_cache);
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  DecoderAttention self_attn{nullptr};
  SwiGlu mlp{nullptr};
};
TORCH_MODULE(DecoderLayer);

// "model.*": embeddings, layers and the final norm.
class TextModelImpl : public torch::nn::Module {
 public:
  explicit TextModelImpl(const ModelConfig& c);
  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers;
  RMSNorm norm{nullptr};
};
TORCH_MODULE(TextModel);

// The inputs of one forward pass.
struct ModelInput {
  torch::Tensor ids;             // [B, T] int64
  torch::Tensor attention_mask;  // [B, T] bool: true = real token (left or right padding)
  torch::Tensor pixel_values;    // [Σ patches, C·T·P·P] of every image, in the order they occur; undefined if none
  std::vector<GridThw> image_grid_thw;  // one per image: each run of <|image_pad|> tokens is one image
  const std::vector<std::string>* sample_ids = nullptr;  // passed to taps
};

class MultimodalModelImpl : public torch::nn::Module {
 public:
  explicit MultimodalModelImpl(const ModelConfig& c);
  // Logits [B, T, V]. With a cache, attends to and appends to it; positions
  // continue from cache->next_pos.
  torch::Tensor forward(const ModelInput& in, KVCache* cache = nullptr);
  // Hidden states after every decoder layer ([B, T, D] each), for
  // representation-level methods; index 0 is the embedding output.
  std::vector<torch::Tensor> hidden_states(const ModelInput& in);
  // A pass for the taps alone: the vision tower, the embedding and decoder
  // layers 0..last_layer (-1: none), without the rest, the final norm or the
  // LM head, which no tap on those layers can see.
  void observe(const ModelInput& in, int64_t last_layer);

  const ModelConfig& config() const { return cfg_; }
  Taps& taps() { return taps_; }
  const std::vector<std::string>& linear_names() const { return linear_names_; }
  // Every parameter in HF naming with its shape, for checkpoint validation.
  std::vector<std::pair<std::string, std::vector<int64_t>>> expected_shapes();

  VisionTower visual{nullptr};
  TextModel model{nullptr};
  TapLinear lm_head{nullptr};

 private:
  torch::Tensor embed(const ModelInput& in, int64_t batch);
  torch::Tensor run(const ModelInput& in, KVCache* cache, std::vector<torch::Tensor>* all, int64_t layers = -1);
  ModelConfig cfg_;
  Taps taps_;
  std::vector<std::string> linear_names_;
  torch::Tensor inv_freq_;   // [head_dim / 2]
  torch::Tensor rope_axis_;  // [head_dim] int64: the M-RoPE axis (0 t, 1 h, 2 w) of each rotary dimension
};
TORCH_MODULE(MultimodalModel);

}  // namespace medforget
