// The multimodal model: image tokens replace the <|image_pad|> embeddings, then
// the decoder runs with padding-aware causal attention and an optional KV cache.
#include <algorithm>

#include "core/error.hpp"
#include "model/model.hpp"

namespace medforget {

MultimodalModelImpl::MultimodalModelImpl(const ModelConfig& c) : cfg_(c) {
  cfg_.validate();
  visual = register_module("visual", VisionTower(c.vision_config));
  model = register_module("model", TextModel(c));
  if (!c.tie_word_embeddings) lm_head = register_module("lm_head", TapLinear(c.hidden_size, c.vocab_size, false));
  const int64_t hd = c.head_dim();
  inv_freq_ = register_buffer(
      "inv_freq", 1.0 / torch::pow(c.rope_theta, torch::arange(0, hd, 2, torch::kFloat32) / static_cast<double>(hd)));
  for (const auto& item : named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    if (auto* lin = item.value()->as<TapLinearImpl>()) {
      bool vision = item.key().rfind("visual.", 0) == 0;
      lin->attach(&taps_, item.key(), vision);
      linear_names_.push_back(item.key());
    }
  }
}

std::vector<std::pair<std::string, std::vector<int64_t>>> MultimodalModelImpl::expected_shapes() {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& p : named_parameters()) out.emplace_back(p.key(), p.value().sizes().vec());
  return out;
}

torch::Tensor MultimodalModelImpl::embed(const ModelInput& in) {
  auto x = model->embed_tokens(in.ids);
  auto pad = in.ids.eq(cfg_.image_token_id);
  if (!in.images.defined()) {
    if (pad.any().item<bool>()) fail("model: the batch holds <|image_pad|> tokens but no images were given");
    return x;
  }
  const int64_t n = cfg_.vision_config.num_image_tokens();
  auto per_row = pad.sum(1);
  if (!per_row.eq(n).all().item<bool>())
    fail("model: every sample needs exactly " + std::to_string(n) + " <|image_pad|> tokens (one image of " +
         std::to_string(cfg_.vision_config.image_size) + "x" + std::to_string(cfg_.vision_config.image_size) +
         "); got " + c10::str(per_row));
  if (in.images.size(0) != in.ids.size(0)) fail("model: images and token rows differ in batch size");
  auto vis = visual(in.images).to(x.dtype());  // [B, n, D]
  return x.masked_scatter(pad.unsqueeze(-1).expand_as(x), vis);
}

torch::Tensor MultimodalModelImpl::run(const ModelInput& in, KVCache* cache, std::vector<torch::Tensor>* all,
                                       int64_t layers) {
  if (in.ids.dim() != 2) fail("model: ids must be [batch, time]");
  const auto B = in.ids.size(0), T = in.ids.size(1);
  auto mask = in.attention_mask.defined() ? in.attention_mask.to(torch::kBool)
                                          : torch::ones({B, T}, torch::dtype(torch::kBool).device(in.ids.device()));
  const int64_t past = cache ? cache->length() : 0;
  if (past + T > cfg_.max_position_embeddings)
    fail("model: sequence of " + std::to_string(past + T) + " tokens exceeds the context of " +
         std::to_string(cfg_.max_position_embeddings));
  auto start = cache && cache->next_pos.defined() ? cache->next_pos : torch::zeros({B}, in.ids.options());
  auto pos = (start.unsqueeze(1) + mask.to(torch::kLong).cumsum(1) - 1).clamp_min(0);
  auto ang = pos.to(torch::kFloat32).unsqueeze(-1) * inv_freq_.view({1, 1, -1});
  auto emb = torch::cat({ang, ang}, -1);
  auto cos = emb.cos(), sin = emb.sin();

  auto keys = cache && cache->key_mask.defined() ? torch::cat({cache->key_mask, mask}, 1) : mask;
  auto qi = torch::arange(T, in.ids.options()).view({T, 1}) + past;
  auto kj = torch::arange(past + T, in.ids.options()).view({1, past + T});
  auto allowed = kj.le(qi).unsqueeze(0) & keys.unsqueeze(1);  // [B, T, Tk]
  allowed = allowed | kj.eq(qi).unsqueeze(0);  // a pad query sees itself: no all-masked softmax rows
  auto additive = torch::zeros(allowed.sizes(), torch::dtype(torch::kFloat32).device(in.ids.device()))
                      .masked_fill(allowed.logical_not(), -1e9)
                      .unsqueeze(1);

  // The per-token vision mask is only built when a tap will read it.
  if (taps_.active()) taps_.set_batch(mask.logical_and(in.ids.eq(cfg_.image_token_id)), mask, in.sample_ids);
  auto x = embed(in);
  if (all) all->push_back(x);
  if (cache && cache->k.empty()) {
    cache->k.resize(model->layers->size());
    cache->v.resize(model->layers->size());
  }
  const size_t depth = layers < 0 ? model->layers->size() : std::min(model->layers->size(), static_cast<size_t>(layers));
  for (size_t i = 0; i < depth; ++i) {
    auto* layer = model->layers[i]->as<DecoderLayerImpl>();
    x = layer->forward(x, cos, sin, additive, cache ? &cache->k[i] : nullptr, cache ? &cache->v[i] : nullptr);
    if (all) all->push_back(x);
  }
  if (layers >= 0) return x;  // observe(): the taps have seen all they asked for
  if (cache) {
    cache->key_mask = keys;
    cache->next_pos = start + mask.to(torch::kLong).sum(1);
  }
  return model->norm(x);
}

torch::Tensor MultimodalModelImpl::forward(const ModelInput& in, KVCache* cache) {
  auto h = run(in, cache, nullptr);
  return cfg_.tie_word_embeddings ? torch::linear(h, model->embed_tokens->weight) : lm_head(h);
}

void MultimodalModelImpl::observe(const ModelInput& in, int64_t last_layer) {
  run(in, nullptr, nullptr, std::max<int64_t>(0, last_layer + 1));
}

std::vector<torch::Tensor> MultimodalModelImpl::hidden_states(const ModelInput& in) {
  std::vector<torch::Tensor> all;
  run(in, nullptr, &all);
  return all;
}

}  // namespace medforget
