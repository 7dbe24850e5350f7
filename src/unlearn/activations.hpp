#pragma once
// Per-item activation summaries of chosen Linear outputs, collected with taps
// in batched, gradient-free forward passes over the items' training examples
// (prompt + answer + image). What CHIP (and its ablations) score and contrast.
#include <functional>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "unlearn/method.hpp"

namespace medforget {

struct ActivationOptions {
  double alpha = 0.3;              // weight of the vision-token mean in LM layers
  bool separate_modalities = true;  // false: one mean over all tokens (ablation)
  int batch_size = 16;
  TapSite site = TapSite::Output;   // Input: the Linear's input (e.g. down_proj's: the MLP's neurons)
  bool text_only = false;           // encode without the vision block and run without images (MANU)
  bool vision_abs_means = false;    // also each vision Linear's per-item mean of |a| over the image's tokens
};

struct ActivationTable {
  std::vector<std::string> modules;   // Linear names, in the order given
  std::vector<torch::Tensor> values;  // per module: [n_items, out_features] float32 on CPU
  // With vision_abs_means, per module: a vision Linear's mean of |a| over the
  // image's tokens ([n_items, out_features], the statistic CHIP's reference
  // code scores merger neurons by); undefined for LM Linears.
  std::vector<torch::Tensor> abs_values;
};

// LM Linears (model.*): α·mean(vision tokens) + (1-α)·mean(text tokens) per
// item; vision-tower / merger Linears (visual.*): the mean over the image's
// tokens. Rows follow `items`. With text_only, vision Linears are never
// called and must not be asked for.
ActivationTable collect_activations(LoadedModel& m, const std::vector<const Item*>& items, ImageCache& images,
                                    const std::vector<std::string>& modules, const ActivationOptions& opt,
                                    const torch::Device& device, const std::string& label);

// The decoder layers an edit touches: the top `fraction` of them (at least
// one), e.g. 0.2 of 28 layers -> 22..27 as in the CHIP paper.
std::vector<int> top_layers(int n_layers, double fraction);

// Keeps at most `cap` of `items` (all when cap is 0): a sample drawn with `rng`,
// in id order.
void keep_sample(std::vector<const Item*>& items, int cap, Rng rng);
// Up to `cap` items of `items` (all when cap is 0), a seeded sample in id order.
std::vector<const Item*> sample_items(const std::vector<Item>& items, int cap, uint64_t seed, const std::string& label);

// Encodes `items` (training examples, or text-only ones with no image), batches
// them by length and hands each batch to `fn` with `rows`: the index in `items`
// of each of its rows ([B] int64, CPU).
void for_each_batch(LoadedModel& m, const std::vector<const Item*>& items, ImageCache& images, int batch_size,
                    const torch::Device& device, bool text_only,
                    const std::function<void(const Batch& b, const torch::Tensor& rows)>& fn);

}  // namespace medforget
