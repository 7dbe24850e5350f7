#pragma once
// The Qwen2.5-VL-shaped multimodal model: ViT vision tower → 2×2 patch merger
// → Qwen2 decoder. Parameter names follow the Hugging Face checkpoint
// ("visual.blocks.0.attn.qkv.weight", "visual.merger.mlp.0.weight",
// "model.layers.3.mlp.gate_proj.weight", "lm_head.weight").
#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/config.hpp"
#include "model/taps.hpp"

namespace medforget {

torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

// SwiGLU MLP: down(silu(gate(x)) * up(x)); used by both towers.
class SwiGluImpl : public torch::nn::Module {
 public:
  SwiGluImpl(int64_t dim, int64_t hidden, bool bias);
  torch::Tensor forward(const torch::Tensor& x);
  TapLinear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(SwiGlu);

class VisionAttentionImpl : public torch::nn::Module {
 public:
  VisionAttentionImpl(int64_t dim, int64_t heads);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);
  TapLinear qkv{nullptr}, proj{nullptr};
  int64_t heads;
};
TORCH_MODULE(VisionAttention);

class VisionBlockImpl : public torch::nn::Module {
 public:
  explicit VisionBlockImpl(const VisionConfig& c);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);
  RMSNorm norm1{nullptr}, norm2{nullptr};
  VisionAttention attn{nullptr};
  SwiGlu mlp{nullptr};
};
TORCH_MODULE(VisionBlock);

class PatchMergerImpl : public torch::nn::Module {
 public:
  explicit PatchMergerImpl(const VisionConfig& c);
  // [B, N, D] patches in raster order → [B, N/merge², out_hidden]
  torch::Tensor forward(const torch::Tensor& x);
  RMSNorm ln_q{nullptr};
  torch::nn::ModuleList mlp;  // 0: fc1 (TapLinear), 1: GELU, 2: fc2 (TapLinear)
  TapLinear fc1{nullptr}, fc2{nullptr};
  int64_t side, merge;
};
TORCH_MODULE(PatchMerger);

class PatchEmbedImpl : public torch::nn::Module {
 public:
  PatchEmbedImpl(int64_t in_chans, int64_t dim, int64_t patch);
  torch::nn::Conv2d proj{nullptr};  // no bias, as in HF
};
TORCH_MODULE(PatchEmbed);

class VisionTowerImpl : public torch::nn::Module {
 public:
  explicit VisionTowerImpl(const VisionConfig& c);
  // images [B, C, H, W] in [0, 1] → image tokens [B, num_image_tokens, out_hidden]
  torch::Tensor forward(const torch::Tensor& images);
  VisionConfig cfg;
  PatchEmbed patch_embed{nullptr};
  torch::nn::ModuleList blocks;
  PatchMerger merger{nullptr};

 private:
  torch::Tensor cos_, sin_;  // 2D rotary tables [N, head_dim]
};
TORCH_MODULE(VisionTower);

// Keys/values of earlier positions, for incremental decoding.
struct KVCache {
  std::vector<torch::Tensor> k, v;  // per layer: [B, Hkv, T_past, hd]
  torch::Tensor key_mask;           // [B, T_past] bool: real (non-pad) keys
  torch::Tensor next_pos;           // [B] int64: rotary position of the next token
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
  torch::Tensor images;          // [B, C, H, W] float in [0,1]; undefined if no row holds image pads
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
  torch::Tensor embed(const ModelInput& in);
  torch::Tensor run(const ModelInput& in, KVCache* cache, std::vector<torch::Tensor>* all, int64_t layers = -1);
  ModelConfig cfg_;
  Taps taps_;
  std::vector<std::string> linear_names_;
  torch::Tensor inv_freq_;
};
TORCH_MODULE(MultimodalModel);

// Images as the model takes them: uint8 grayscale bytes → [C, H, W] float in [0,1].
torch::Tensor image_tensor(const std::vector<uint8_t>& pixels, int size);

}  // namespace medforget
