// The multimodal model: image tokens replace the <|image_pad|> embeddings, then
// the decoder runs with Qwen2.5-VL's multimodal RoPE (positions from
// rope_index, continued across a KV cache), padding-aware causal attention.
#include <algorithm>

#include "core/error.hpp"
#include "model/arch_names.hpp"
#include "model/model.hpp"

namespace medforget {

MultimodalModelImpl::MultimodalModelImpl(const ModelConfig& c) : cfg_(c) {
  cfg_.validate();
  visual = register_module("visual", VisionTower(c.vision_config));
  model = register_module("model", TextModel(c));
  if (!c.tie_word_embeddings) lm_head = register_module("lm_head", TapLinear(c.hidden_size, c.vocab_size, false));
  const int64_t hd = c.head_dim(), half = hd / 2;
  auto exponent = torch::arange(0, hd, 2, torch::kFloat64) / static_cast<double>(hd);
  inv_freq_ = register_buffer("inv_freq", (1.0 / torch::pow(c.rope_theta, exponent)).to(torch::kFloat32));
  // transformers' apply_multimodal_rotary_pos_emb: each half of the rotary
  // dimensions is split by mrope_section into temporal, height and width parts.
  std::vector<int64_t> axis;
  for (int rep = 0; rep < 2; ++rep)
    for (int a = 0; a < 3; ++a) axis.insert(axis.end(), static_cast<size_t>(c.mrope_section[static_cast<size_t>(a)]), a);
  if (static_cast<int64_t>(axis.size()) != 2 * half) fail("model: mrope_section does not cover the head dimension");
  rope_axis_ = register_buffer("rope_axis", torch::tensor(axis, torch::kLong));
  for (const auto& item : named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    if (auto* lin = item.value()->as<TapLinearImpl>()) {
      const bool vision = arch::in_vision(item.key());
      lin->attach(&taps_, item.key(), vision);
      linear_names_.push_back(item.key());
    }
  }
}

std::vector<std::pair<std::string, std::vector<int64_t>>> MultimodalModelImpl::expected_shapes() {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& p : named_parameters())
    if (!is_lora_name(p.key())) out.emplace_back(p.key(), p.value().sizes().vec());
  return out;
}

namespace {

// The batch row of each image: every run of image-pad tokens is one image, in
// row-major order (the order of pixel_values and image_grid_thw).
std::vector<int64_t> image_rows(const torch::Tensor& ids_cpu, int64_t image_token) {
  std::vector<int64_t> rows;
  auto a = ids_cpu.accessor<int64_t, 2>();
  for (int64_t b = 0; b < a.size(0); ++b)
    for (int64_t t = 0; t < a.size(1); ++t)
      if (a[b][t] == image_token && (t == 0 || a[b][t - 1] != image_token)) rows.push_back(b);
  return rows;
}

}  // namespace

torch::Tensor MultimodalModelImpl::embed(const ModelInput& in, int64_t batch) {
  auto x = model->embed_tokens(in.ids);
  auto pad = in.ids.eq(cfg_.image_token_id);
  const int64_t n_pad = pad.sum().item<int64_t>();
  if (!in.pixel_values.defined()) {
    if (n_pad > 0) fail("model: the batch holds <|image_pad|> tokens but no images were given");
    return x;
  }
  const auto rows = image_rows(in.ids.to(torch::kCPU), cfg_.image_token_id);
  if (rows.size() != in.image_grid_thw.size())
    fail("model: the batch holds " + std::to_string(rows.size()) + " runs of <|image_pad|> tokens but " +
         std::to_string(in.image_grid_thw.size()) + " image grids were given");
  const int64_t unit = static_cast<int64_t>(cfg_.vision_config.spatial_merge_size) * cfg_.vision_config.spatial_merge_size;
  int64_t tokens = 0;
  for (const auto& g : in.image_grid_thw) tokens += g[0] * g[1] * g[2] / unit;
  if (tokens != n_pad)
    fail("model: the image grids give " + std::to_string(tokens) + " image tokens but the batch holds " +
         std::to_string(n_pad) + " <|image_pad|> tokens");
  auto vis = visual->forward(in.pixel_values, in.image_grid_thw, rows, batch, &taps_).to(x.dtype());
  return x.masked_scatter(pad.unsqueeze(-1).expand_as(x), vis);
}

torch::Tensor MultimodalModelImpl::run(const ModelInput& in, KVCache* cache, std::vector<torch::Tensor>* all,
                                       int64_t layers) {
  if (in.ids.dim() != 2) fail("model: ids must be [batch, time]");
  const auto B = in.ids.size(0), T = in.ids.size(1);
  const auto dev = in.ids.device();
  auto mask = in.attention_mask.defined() ? in.attention_mask.to(torch::kBool)
                                          : torch::ones({B, T}, torch::dtype(torch::kBool).device(dev));
  const int64_t past = cache ? cache->length() : 0;
  if (past + T > cfg_.max_position_embeddings)
    fail("model: sequence of " + std::to_string(past + T) + " tokens exceeds the context of " +
         std::to_string(cfg_.max_position_embeddings));

  // M-RoPE positions [3, B, T]: from the images' grids on the first pass, then
  // every new token advances all three axes by one.
  torch::Tensor pos;
  if (past == 0) {
    if (!in.pixel_values.defined() && in.ids.eq(cfg_.image_token_id).any().item<bool>())
      fail("model: the batch holds <|image_pad|> tokens but no images were given");
    auto ids_cpu = in.ids.to(torch::kCPU).contiguous();
    auto mask_cpu = mask.to(torch::kCPU).to(torch::kLong).contiguous();
    std::vector<int64_t> ids_v(ids_cpu.data_ptr<int64_t>(), ids_cpu.data_ptr<int64_t>() + B * T);
    std::vector<int64_t> mask_v(mask_cpu.data_ptr<int64_t>(), mask_cpu.data_ptr<int64_t>() + B * T);
    const RopeIndex ri = rope_index(ids_v, mask_v, B, T, cfg_.image_token_id, in.image_grid_thw,
                                    cfg_.vision_config.spatial_merge_size);
    pos = torch::tensor(ri.positions, torch::kLong).view({3, B, T}).to(dev);
    if (cache) cache->next_pos = torch::tensor(ri.deltas, torch::kLong).to(dev) + mask.to(torch::kLong).sum(1);
  } else {
    auto p = cache->next_pos.unsqueeze(1) + mask.to(torch::kLong).cumsum(1) - 1;
    pos = p.clamp_min(0).unsqueeze(0).expand({3, B, T});
  }
  auto freq = torch::cat({inv_freq_, inv_freq_}).to(dev);
  auto ang = pos.to(torch::kFloat32).index_select(0, rope_axis_.to(dev)).permute({1, 2, 0}) * freq;  // [B, T, hd]
  auto cos = ang.cos(), sin = ang.sin();

  auto keys = cache && cache->key_mask.defined() ? torch::cat({cache->key_mask, mask}, 1) : mask;
  auto qi = torch::arange(T, in.ids.options()).view({T, 1}) + past;
  auto kj = torch::arange(past + T, in.ids.options()).view({1, past + T});
  auto allowed = kj.le(qi).unsqueeze(0) & keys.unsqueeze(1);  // [B, T, Tk]
  allowed = allowed | kj.eq(qi).unsqueeze(0);  // a pad query sees itself: no all-masked softmax rows
  auto additive = torch::zeros(allowed.sizes(), torch::dtype(torch::kFloat32).device(dev))
                      .masked_fill(allowed.logical_not(), -1e9)
                      .unsqueeze(1);

  // The per-token vision mask is only built when a tap will read it.
  if (taps_.active()) taps_.set_batch(mask.logical_and(in.ids.eq(cfg_.image_token_id)), mask, in.sample_ids);
  auto x = embed(in, B);
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
    if (past > 0) cache->next_pos = cache->next_pos + mask.to(torch::kLong).sum(1);
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
