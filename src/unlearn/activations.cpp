#include "unlearn/activations.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "model/inference.hpp"
#include "model/arch_names.hpp"

namespace medforget {

std::vector<int> top_layers(int n_layers, double fraction) {
  if (!(fraction > 0 && fraction <= 1)) fail("layer fraction must be in (0, 1], got " + std::to_string(fraction));
  int n = std::max(1, static_cast<int>(std::lround(fraction * n_layers)));
  std::vector<int> out;
  for (int i = n_layers - n; i < n_layers; ++i) out.push_back(i);
  return out;
}

void keep_sample(std::vector<const Item*>& items, int cap, Rng rng) {
  if (cap <= 0 || items.size() <= static_cast<size_t>(cap)) return;
  rng.shuffle(items);
  items.resize(static_cast<size_t>(cap));
  std::sort(items.begin(), items.end(), [](const Item* a, const Item* b) { return a->id < b->id; });
}

std::vector<const Item*> sample_items(const std::vector<Item>& items, int cap, uint64_t seed, const std::string& label) {
  std::vector<const Item*> out;
  for (const auto& it : items) out.push_back(&it);
  keep_sample(out, cap, Rng(seed).fork(label));
  return out;
}

// Training examples of `items`, or their text-only form (no vision block).
static std::vector<Example> encode_items(const std::vector<Item>& items, LoadedModel& m, ImageCache& images,
                                         bool text_only) {
  if (!text_only) return make_examples(items, m.tokenizer, m.config, images);
  std::vector<Example> out;
  for (const auto& it : items) {
    Example e;
    e.id = it.id;
    e.chat = encode_chat(m.tokenizer, it.prompt, it.answer, 0, m.config.max_position_embeddings);
    out.push_back(std::move(e));
  }
  return out;
}

void for_each_batch(LoadedModel& m, const std::vector<const Item*>& items, ImageCache& images, int batch_size,
                    const torch::Device& device, bool text_only,
                    const std::function<void(const Batch& b, const torch::Tensor& rows)>& fn) {
  std::vector<Item> copies;
  copies.reserve(items.size());
  for (const Item* it : items) copies.push_back(*it);
  auto ex = encode_items(copies, m, images, text_only);
  // Batches of similar lengths: in id order the `paper` items' batches were
  // about half padding. Right padding under a causal mask leaves every real
  // token's activations as they were, so only the order of the rows changes.
  const auto sorted = length_order(ex);
  const std::vector<int64_t> order(sorted.begin(), sorted.end());
  const size_t bs = static_cast<size_t>(std::max(1, batch_size));
  for (size_t s = 0; s < order.size(); s += bs) {
    const size_t e = std::min(order.size(), s + bs);
    std::vector<const Example*> ptrs;
    for (size_t i = s; i < e; ++i) ptrs.push_back(&ex[static_cast<size_t>(order[i])]);
    Batch b = collate(ptrs, m.tokenizer.pad_id(), false, device);
    std::vector<int64_t> rows(order.begin() + static_cast<std::ptrdiff_t>(s),
                              order.begin() + static_cast<std::ptrdiff_t>(e));
    fn(b, torch::tensor(rows, torch::kLong));
  }
}

// Σ_t w[b,t]·x[b,t,:] as one batched matrix product (no [B, T, D] temporary).
static torch::Tensor weighted_sum(const torch::Tensor& x, const torch::Tensor& w) {
  return torch::bmm(w.to(x.dtype()).unsqueeze(1), x).squeeze(1);
}

// Per-row weights that average over `mask` (rows with an empty mask get 0).
static torch::Tensor mean_weights(const torch::Tensor& mask) {
  auto m = mask.to(torch::kFloat32);
  return m / m.sum(1, /*keepdim=*/true).clamp_min(1);
}

// The deepest decoder layer a tap on `modules` reads (-1: vision tower only),
// or nullopt when one reads past the decoder (final norm, LM head).
static std::optional<int64_t> deepest_layer(const std::vector<std::string>& modules) {
  int64_t deepest = -1;
  for (const auto& name : modules) {
    if (arch::in_vision(name)) continue;
    const auto layer = arch::decoder_layer_of(name);
    if (!layer) return std::nullopt;  // the full pass, whose check names a module that never ran
    deepest = std::max<int64_t>(deepest, *layer);
  }
  return deepest;
}

ActivationTable collect_activations(LoadedModel& m, const std::vector<const Item*>& items, ImageCache& images,
                                    const std::vector<std::string>& modules, const ActivationOptions& opt,
                                    const torch::Device& device, const std::string& label) {
  torch::NoGradGuard ng;
  m.model->eval();
  ActivationTable t;
  t.modules = modules;
  std::vector<std::vector<torch::Tensor>> chunks(modules.size()), abs_chunks(modules.size());
  std::vector<torch::Tensor> chunk_rows;
  Taps& taps = m.model->taps();
  taps.clear();
  for (size_t k = 0; k < modules.size(); ++k) {
    taps.add(modules[k], opt.site, [&, k](const torch::Tensor& x, const TapContext& ctx) {
      torch::Tensor a;
      if (ctx.in_vision) {
        a = per_sample_mean(x, ctx);  // packed patch or token rows -> [B, D]
        if (opt.vision_abs_means) abs_chunks[k].push_back(per_sample_mean(x.abs(), ctx).to(torch::kFloat32).to(torch::kCPU));
      } else {
        auto text = ctx.token_mask.logical_and(ctx.vision_mask.logical_not());
        // α·mean(vision) + (1-α)·mean(text) is one weighted sum over the tokens.
        auto w = opt.separate_modalities
                     ? opt.alpha * mean_weights(ctx.vision_mask) + (1 - opt.alpha) * mean_weights(text)
                     : mean_weights(ctx.token_mask);
        a = weighted_sum(x, w);
      }
      chunks[k].push_back(a.to(torch::kFloat32).to(torch::kCPU));
      return torch::Tensor();
    });
  }
  // Stopping after the deepest tapped layer skips the LM head (about a fifth
  // of a small model's pass) and any layer above the taps.
  const auto depth = deepest_layer(modules);
  Progress prog(label, items.size());
  try {
    for_each_batch(m, items, images, opt.batch_size, device, opt.text_only,
                   [&](const Batch& b, const torch::Tensor& rows) {
      chunk_rows.push_back(rows);
      if (depth) m.model->observe(b.input(), *depth);
      else m.model->forward(b.input());
      prog.tick(b.sample_ids.size());
    });
  } catch (...) {
    taps.clear();
    throw;
  }
  taps.clear();
  prog.done();
  for (size_t k = 0; k < modules.size(); ++k) {
    if (chunks[k].empty()) fail("activations: module '" + modules[k] + "' was never called (wrong name?)");
    auto batched = torch::cat(chunks[k], 0);
    if (batched.size(0) != static_cast<int64_t>(items.size()))
      fail("activations: module '" + modules[k] + "' produced " + std::to_string(batched.size(0)) +
           " rows for " + std::to_string(items.size()) + " items");
    // Back to the items' order.
    const auto rows = torch::cat(chunk_rows, 0);
    t.values.push_back(torch::empty_like(batched).index_copy_(0, rows, batched));
    if (abs_chunks[k].empty()) {
      t.abs_values.emplace_back();
    } else {
      auto abs_batched = torch::cat(abs_chunks[k], 0);
      t.abs_values.push_back(torch::empty_like(abs_batched).index_copy_(0, rows, abs_batched));
    }
  }
  return t;
}

}  // namespace medforget
