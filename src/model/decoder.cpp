// Qwen2 decoder: RMSNorm → grouped-query attention (q/k/v biases) with
// multimodal RoPE → RMSNorm → SwiGLU.
#include "model/model.hpp"

namespace medforget {

DecoderAttentionImpl::DecoderAttentionImpl(const ModelConfig& c)
    : heads(c.num_attention_heads), kv_heads(c.num_key_value_heads), head_dim(c.head_dim()) {
  q_proj = register_module("q_proj", TapLinear(c.hidden_size, heads * head_dim, true));
  k_proj = register_module("k_proj", TapLinear(c.hidden_size, kv_heads * head_dim, true));
  v_proj = register_module("v_proj", TapLinear(c.hidden_size, kv_heads * head_dim, true));
  o_proj = register_module("o_proj", TapLinear(heads * head_dim, c.hidden_size, false));
}

torch::Tensor DecoderAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                            const torch::Tensor& mask, torch::Tensor* k_cache,
                                            torch::Tensor* v_cache) {
  const auto B = x.size(0), T = x.size(1);
  auto q = q_proj(x).view({B, T, heads, head_dim}).transpose(1, 2);
  auto k = k_proj(x).view({B, T, kv_heads, head_dim}).transpose(1, 2);
  auto v = v_proj(x).view({B, T, kv_heads, head_dim}).transpose(1, 2);
  // Angles are computed in float32 and applied in the activations' dtype, as transformers does.
  auto c = cos.unsqueeze(1).to(x.scalar_type()), s = sin.unsqueeze(1).to(x.scalar_type());
  q = apply_rope(q, c, s);
  k = apply_rope(k, c, s);
  if (k_cache) {
    if (k_cache->defined()) {
      k = torch::cat({*k_cache, k}, 2);
      v = torch::cat({*v_cache, v}, 2);
    }
    *k_cache = k;
    *v_cache = v;
  }
  if (kv_heads != heads) {
    k = k.repeat_interleave(heads / kv_heads, 1);
    v = v.repeat_interleave(heads / kv_heads, 1);
  }
  auto out = attend(q, k, v, mask);
  return o_proj(out.transpose(1, 2).reshape({B, T, heads * head_dim}));
}

DecoderLayerImpl::DecoderLayerImpl(const ModelConfig& c) {
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  self_attn = register_module("self_attn", DecoderAttention(c));
  post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  mlp = register_module("mlp", SwiGlu(c.hidden_size, c.intermediate_size, false));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                                        const torch::Tensor& mask, torch::Tensor* k_cache, torch::Tensor* v_cache) {
  auto h = x + self_attn(input_layernorm(x), cos, sin, mask, k_cache, v_cache);
  return h + mlp(post_attention_layernorm(h));
}

TextModelImpl::TextModelImpl(const ModelConfig& c) {
  // Given a weight, Embedding skips its own (touching) initialisation.
  embed_tokens = register_module(
      "embed_tokens", torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocab_size, c.hidden_size)
                                               ._weight(torch::empty({c.vocab_size, c.hidden_size}))));
  if (!SkipParameterInit::active()) torch::nn::init::normal_(embed_tokens->weight, 0.0, 0.02);
  layers = register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < c.num_hidden_layers; ++i) layers->push_back(DecoderLayer(c));
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

}  // namespace medforget
