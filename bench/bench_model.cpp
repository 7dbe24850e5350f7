// Model throughput: training step tokens/s and achieved GFLOP/s (against the
// measured sgemm peak), and greedy generation tokens/s with and without the KV
// cache. Run: ./build/medforget_bench [--benchmark_filter=...]
#include <cmath>
#include <benchmark/benchmark.h>

#include <chrono>

#include "core/runtime.hpp"
#include "model/inference.hpp"
#include "train/trainer.hpp"

using namespace medforget;

namespace {

ModelConfig config(const std::string& preset) { return model_preset_with_ids(preset, 2000); }

// The testbed's square radiograph side: the largest the processor keeps as it is.
int image_side(const ModelConfig& c) {
  return static_cast<int>(std::sqrt(static_cast<double>(c.image_processor.max_pixels)));
}

// Benchmark-shaped samples: image block + ~60 prompt tokens + ~30 answer tokens.
std::vector<Example> samples(const ModelConfig& c, int n, int prompt, int answer) {
  std::vector<Example> v;
  torch::manual_seed(1);
  for (int k = 0; k < n; ++k) {
    Example e;
    e.id = std::to_string(k);
    auto& ids = e.chat.ids;
    ids = {1, 3};
    const int side = image_side(c);
    auto px = torch::randint(0, 256, {side * side}, torch::kUInt8);
    e.image = gray_image_input(std::vector<uint8_t>(px.data_ptr<uint8_t>(), px.data_ptr<uint8_t>() + px.numel()), side,
                               side, c.image_processor);
    for (int64_t i = 0; i < e.image.num_tokens(c.vision_config.spatial_merge_size); ++i) ids.push_back(5);
    ids.push_back(4);
    for (int i = 0; i < prompt; ++i) ids.push_back(10 + (k * 7 + i) % 1900);
    e.chat.prompt_len = static_cast<int>(ids.size());
    for (int i = 0; i < answer; ++i) ids.push_back(10 + (k * 13 + i) % 1900);
    e.chat.loss_mask.assign(ids.size(), 0);
    for (size_t i = static_cast<size_t>(e.chat.prompt_len); i < ids.size(); ++i) e.chat.loss_mask[i] = 1;
    v.push_back(std::move(e));
  }
  return v;
}

int64_t count_params(MultimodalModel& m) {
  int64_t n = 0;
  for (const auto& p : m->parameters()) n += p.numel();
  return n;
}

// Matrix-product FLOPs of one training step, counted from what runs: each
// weight matrix times the rows it really sees (decoder and LM head: every
// token; vision blocks and patch embedding: every patch; merger: every merged
// token) plus attention's two products per layer, at 2 FLOPs per multiply-add
// forward and 4 backward (the patch embedding needs no input gradient: 2).
// The embedding lookup, norms, activations, loss and AdamW count nothing.
double train_step_flops(MultimodalModel& m, const ModelConfig& c, int64_t batch, int64_t seq) {
  const auto& v = c.vision_config;
  const double B = static_cast<double>(batch), T = static_cast<double>(seq);
  const double side = image_side(c) / v.patch_size, P = side * side, M = P / (v.spatial_merge_size * v.spatial_merge_size);
  const double window = std::min(P, std::pow(static_cast<double>(v.window_size) / v.patch_size, 2));
  double flops = 0;
  for (const auto& p : m->named_parameters()) {
    const std::string& name = p.key();
    if (p.value().dim() < 2 || name.find("embed_tokens") != std::string::npos) continue;
    const bool vision = name.rfind("visual.", 0) == 0, merger = name.rfind("visual.merger.", 0) == 0;
    const double rows = merger ? B * M : vision ? B * P : B * T;
    const double per_mac = name.find("patch_embed") != std::string::npos ? 4.0 : 6.0;
    flops += per_mac * rows * static_cast<double>(p.value().numel());
  }
  // Q·Kᵀ and A·V: 2 × T² × (heads × head_dim) multiply-adds per sample and layer.
  flops += 6.0 * 2.0 * B * T * T * c.hidden_size * c.num_hidden_layers;
  // Vision attention: all patches in the full-attention blocks, one window elsewhere.
  const double full = static_cast<double>(v.fullatt_block_indexes.size());
  flops += 6.0 * 2.0 * B * P * v.hidden_size * (full * P + (v.depth - full) * window);
  return flops;
}

// The same probe as `medforget doctor`: best of several placements.
double sgemm_peak() {
  static double peak = probe_runtime(true, 2.0).sgemm_gflops;
  return peak;
}

void BM_TrainStep(benchmark::State& st, const std::string& preset) {
  auto c = config(preset);
  MultimodalModel m(c);
  auto data = samples(c, 16, 60, 30);
  std::vector<const Example*> ex;
  for (auto& e : data) ex.push_back(&e);
  Batch b = collate(ex, 0, false, torch::kCPU);
  torch::optim::AdamW opt(m->parameters(), torch::optim::AdamWOptions(1e-4));
  const double tokens = static_cast<double>(b.attention_mask.sum().item<int64_t>());
  double seconds = 0;
  for (auto _ : st) {
    auto t0 = std::chrono::steady_clock::now();
    opt.zero_grad();
    auto loss = per_sample_loss(m->forward(b.input()), b).mean();
    loss.backward();
    opt.step();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  const double flops = train_step_flops(m, c, b.ids.size(0), b.ids.size(1));
  st.counters["tokens/s"] = benchmark::Counter(tokens, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  st.counters["sgemm_peak_GFLOP/s"] = sgemm_peak();
  if (seconds > 0) st.counters["peak_%"] = 100.0 * flops * static_cast<double>(st.iterations()) / seconds / 1e9 / sgemm_peak();
  st.counters["params"] = static_cast<double>(count_params(m));
}

void BM_Generate(benchmark::State& st, const std::string& preset, bool cache) {
  auto c = config(preset);
  MultimodalModel m(c);
  auto prompts = samples(c, 16, 60, 0);
  GenerateOptions o;
  o.max_new_tokens = 32;
  o.use_cache = cache;
  double produced = 0;
  for (auto _ : st) {
    // Random weights rarely emit <|im_end|> (id 2), so every row runs the full budget.
    auto out = generate_greedy(m, prompts, /*eos=*/-1, 0, o, torch::kCPU);
    for (auto& g : out) produced += static_cast<double>(g.size());
  }
  st.counters["new_tokens/s"] = benchmark::Counter(produced, benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK_CAPTURE(BM_TrainStep, tiny, std::string("tiny"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, small, std::string("small"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainStep, base, std::string("base"))->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Generate, small_cache, std::string("small"), true)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Generate, small_nocache, std::string("small"), false)->Unit(benchmark::kMillisecond)->UseRealTime();

int main(int argc, char** argv) {
  configure_runtime();
  warn_if_reference_blas();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
