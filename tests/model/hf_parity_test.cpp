// medforget's Qwen2.5-VL against transformers' own numbers (tests/fixtures/hf,
// made by scripts/hf_reference.py): checkpoints written by save_pretrained load
// as they are, and the forward pass, the vision tower's output, every decoder
// layer and greedy generation with the KV cache give transformers' values on
// left-padded batches with images of several sizes and text-only rows.
#include <gtest/gtest.h>

#include <cstdio>
#include <limits>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "model/hf_checkpoint.hpp"
#include "model/hf_fixtures.hpp"
#include "model/lora.hpp"
#include "model/model.hpp"
#include "model/safetensors.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = test::kHfFixtures;

torch::Tensor tensor_of(const std::map<std::string, RawTensor>& ref, const std::string& key) {
  auto it = ref.find(key);
  if (it == ref.end()) throw std::runtime_error("fixture lacks " + key);
  return to_torch(it->second);
}

struct Loaded {
  ModelConfig cfg;
  MultimodalModel model{nullptr};
  std::map<std::string, RawTensor> ref;
};

Loaded load(const std::string& name) {
  Loaded l;
  l.cfg = read_hf_config(kFixtures / name);
  l.model = MultimodalModel(l.cfg);
  auto w = read_hf_weights(kFixtures / name, l.model->expected_shapes(), torch::kFloat32);
  torch::NoGradGuard ng;
  for (auto& p : l.model->named_parameters()) p.value().copy_(w.at(p.key()));
  l.model->eval();
  l.ref = read_safetensors(kFixtures / (name + "_ref.safetensors"));
  return l;
}

std::vector<GridThw> grids_of(const torch::Tensor& t) {
  std::vector<GridThw> g;
  auto a = t.accessor<int64_t, 2>();
  for (int64_t i = 0; i < a.size(0); ++i) g.push_back({a[i][0], a[i][1], a[i][2]});
  return g;
}

ModelInput input_of(const Loaded& l, const std::string& c) {
  ModelInput in;
  in.ids = tensor_of(l.ref, c + ".input_ids");
  in.attention_mask = l.ref.count(c + ".attention_mask") ? tensor_of(l.ref, c + ".attention_mask").to(torch::kBool)
                                                         : torch::ones_like(in.ids, torch::kBool);
  if (l.ref.count(c + ".pixel_values")) {
    in.pixel_values = tensor_of(l.ref, c + ".pixel_values");
    in.image_grid_thw = grids_of(tensor_of(l.ref, c + ".image_grid_thw"));
  }
  return in;
}

// Largest |a - b| where mask [B, T] is set (logits at padding mean nothing).
double max_diff(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mask) {
  auto d = (a - b).abs();
  if (mask.defined()) d = d * mask.unsqueeze(-1).to(d.dtype());
  return d.max().item<double>();
}

// Greedy steps with the vision and video markers suppressed, as the fixture's
// generate() call did; returns the step logits [S, B, V] and the tokens [B, S].
std::pair<torch::Tensor, torch::Tensor> greedy(Loaded& l, const ModelInput& first, int steps, bool cache) {
  std::vector<torch::Tensor> logits, tokens;
  KVCache kv;
  ModelInput in = first;
  torch::Tensor ids = first.ids, mask = first.attention_mask;
  const auto B = ids.size(0);
  for (int s = 0; s < steps; ++s) {
    auto out = cache ? l.model->forward(in, &kv) : l.model->forward({ids, mask, first.pixel_values, first.image_grid_thw});
    auto last = out.select(1, out.size(1) - 1);
    logits.push_back(last);
    auto next = last.index_fill(-1, torch::tensor({4L, 5L, 6L, 7L}), -std::numeric_limits<float>::infinity()).argmax(-1);
    tokens.push_back(next);
    in = {next.unsqueeze(1), torch::ones({B, 1}, torch::kBool), torch::Tensor(), {}};
    ids = torch::cat({ids, next.unsqueeze(1)}, 1);
    mask = torch::cat({mask, torch::ones({B, 1}, torch::kBool)}, 1);
  }
  return {torch::stack(logits), torch::stack(tokens, 1)};
}

}  // namespace

TEST(HfParity, LogitsEqualTransformersOnPaddedBatches) {
  torch::NoGradGuard ng;
  int cases = 0;
  for (const char* name : {"model_a", "model_b"}) {
    Loaded l = load(name);
    for (const char* c : {"batch", "textonly", "single"}) {
      const std::string p = c;
      if (!l.ref.count(p + ".logits")) continue;
      SCOPED_TRACE(std::string(name) + " " + c);
      ModelInput in = input_of(l, p);
      if (p == "single") {  // row 0's image: the first grid's patches of the batch
        auto g = grids_of(tensor_of(l.ref, "single.image_grid_thw"));
        in.pixel_values = tensor_of(l.ref, "batch.pixel_values").narrow(0, 0, g[0][0] * g[0][1] * g[0][2]);
        in.image_grid_thw = g;
        in.attention_mask = torch::ones_like(in.ids, torch::kBool);
      }
      auto logits = l.model->forward(in);
      const double d = max_diff(logits, tensor_of(l.ref, p + ".logits"), in.attention_mask);
      std::printf("[parity] %s %s: logits max |diff| %.2e\n", name, c, d);  // docs/RESULTS.md quotes these
      EXPECT_LT(d, 1e-4);
      ++cases;
    }
  }
  EXPECT_EQ(cases, 5);
}

TEST(HfParity, VisionTowerAndDecoderLayersEqualTransformers) {
  torch::NoGradGuard ng;
  for (const char* name : {"model_a", "model_b"}) {
    SCOPED_TRACE(name);
    Loaded l = load(name);
    auto g = grids_of(tensor_of(l.ref, "single.image_grid_thw"));
    auto px = tensor_of(l.ref, "batch.pixel_values").narrow(0, 0, g[0][0] * g[0][1] * g[0][2]);
    auto embeds = l.model->visual->forward(px, g, {0}, 1, nullptr);
    const double dv = (embeds - tensor_of(l.ref, "single.vision.image_embeds")).abs().max().item<double>();
    std::printf("[parity] %s: vision tower output max |diff| %.2e\n", name, dv);
    EXPECT_LT(dv, 1e-5);

    ModelInput in{tensor_of(l.ref, "single.input_ids"), torch::Tensor(), px, g};
    auto hs = l.model->hidden_states(in);
    ASSERT_EQ(hs.size(), static_cast<size_t>(l.cfg.num_hidden_layers) + 1);
    EXPECT_LT((hs[0] - tensor_of(l.ref, "single.text.inputs_embeds")).abs().max().item<double>(), 1e-5);
    for (int i = 0; i < l.cfg.num_hidden_layers; ++i) {
      const auto want = tensor_of(l.ref, "single.text.layer" + std::to_string(i) + ".out");
      EXPECT_LT((hs[static_cast<size_t>(i) + 1] - want).abs().max().item<double>(), 1e-4) << "layer " << i;
    }
  }
}

TEST(HfParity, GreedyGenerationWithAndWithoutTheCacheEqualsTransformers) {
  torch::NoGradGuard ng;
  int cases = 0;
  for (const char* name : {"model_a", "model_b"}) {
    Loaded l = load(name);
    for (const char* c : {"batch", "textonly"}) {
      const std::string p = c;
      if (!l.ref.count(p + ".generate.new_tokens")) continue;
      SCOPED_TRACE(std::string(name) + " " + c);
      const auto want = tensor_of(l.ref, p + ".generate.new_tokens");
      const auto step_logits = tensor_of(l.ref, p + ".generate.step_logits");
      const int steps = static_cast<int>(want.size(1));
      auto [logits, tokens] = greedy(l, input_of(l, p), steps, /*cache=*/true);
      EXPECT_TRUE(torch::equal(tokens, want)) << tokens << "\nwant\n" << want;
      const double d = (logits - step_logits).abs().max().item<double>();
      std::printf("[parity] %s %s: %d cached greedy steps, step logits max |diff| %.2e, tokens %s\n", name, c, steps, d,
                  torch::equal(tokens, want) ? "equal" : "DIFFER");
      EXPECT_LT(d, 1e-4);
      auto [logits2, tokens2] = greedy(l, input_of(l, p), steps, /*cache=*/false);
      EXPECT_TRUE(torch::equal(tokens2, want));
      ++cases;
    }
  }
  EXPECT_EQ(cases, 3);
}

TEST(HfParity, BadCheckpointsAreRefusedNamingFileAndTensor) {
  test::TempDir tmp;
  auto copy = [&](const std::string& name) {
    fs::path d = tmp.path() / name;
    fs::copy(kFixtures / "model_a", d, fs::copy_options::recursive);
    return d;
  };
  // Another model type.
  fs::path other = copy("other");
  Json c = read_json(other / "config.json");
  c["model_type"] = "llava";
  write_json(other / "config.json", c);
  test::expect_contains(test::error_of([&] { read_hf_config(other); }), "llava");

  // A tensor whose shape disagrees with the config.
  fs::path shape = copy("shape");
  Json s = read_json(shape / "config.json");
  s["text_config"]["intermediate_size"] = 96;
  write_json(shape / "config.json", s);
  ModelConfig sc = read_hf_config(shape);
  MultimodalModel sm(sc);
  auto msg = test::error_of([&] { read_hf_weights(shape, sm->expected_shapes(), torch::kFloat32); });
  test::expect_contains(msg, "model.safetensors");
  test::expect_contains(msg, "mlp");
  test::expect_contains(msg, "[64, 96]");

  // A shard index naming a file that is not there.
  fs::path shard = copy("shard");
  auto raw = read_safetensors(shard / "model.safetensors");
  Json map = Json::object();
  std::map<std::string, RawTensor> first, second;
  for (auto& [n, t] : raw) (n.rfind("visual.", 0) == 0 ? first : second).emplace(n, t);
  for (const auto& [n, t] : first) map[n] = "model-00001-of-00002.safetensors";
  for (const auto& [n, t] : second) map[n] = "model-00002-of-00002.safetensors";
  fs::remove(shard / "model.safetensors");
  write_safetensors(shard / "model-00001-of-00002.safetensors", first);
  write_json(shard / "model.safetensors.index.json", Json{{"metadata", Json::object()}, {"weight_map", map}});
  ModelConfig cfg = read_hf_config(shard);
  MultimodalModel m(cfg);
  msg = test::error_of([&] { read_hf_weights(shard, m->expected_shapes(), torch::kFloat32); });
  test::expect_contains(msg, "model.safetensors.index.json");
  test::expect_contains(msg, "model-00002-of-00002.safetensors");
  // With both shards present the split checkpoint loads and equals the single file.
  write_safetensors(shard / "model-00002-of-00002.safetensors", second);
  auto w = read_hf_weights(shard, m->expected_shapes(), torch::kBFloat16);
  EXPECT_EQ(w.size(), m->expected_shapes().size());
  EXPECT_EQ(w.at("visual.patch_embed.proj.weight").scalar_type(), torch::kBFloat16);

  // Integer (quantised) weights.
  fs::path quant = copy("quant");
  auto q = read_safetensors(quant / "model.safetensors");
  auto& t = q.at("model.norm.weight");
  t.dtype = "I32";
  write_safetensors(quant / "model.safetensors", q);
  msg = test::error_of([&] { read_hf_weights(quant, m->expected_shapes(), torch::kFloat32); });
  test::expect_contains(msg, "model.norm.weight");
  test::expect_contains(msg, "I32");
}

// PEFT LoRA adapters saved by peft's save_pretrained for model A: the adapted
// logits, the merged model's logits, PEFT's own tensor names on the way out, and
// an adapter for another base model refused.
TEST(HfParity, PeftLoraAdaptersGiveTransformersLogitsAndRoundTrip) {
  torch::NoGradGuard ng;
  const auto lref = read_safetensors(kFixtures / "lora_a_ref.safetensors");
  for (const char* adapter : {"lora_a", "lora_a_text"}) {
    SCOPED_TRACE(adapter);
    Loaded l = load(std::string("model_a"));
    const LoraConfig cfg = load_lora_adapter(l.model, kFixtures / adapter);
    EXPECT_EQ(cfg.r, 4);
    EXPECT_EQ(cfg.alpha, 8);
    ModelInput in = input_of(l, "batch");
    auto logits = l.model->forward(in);
    const auto want = tensor_of(lref, std::string(adapter) + ".logits");
    const double d = max_diff(logits, want, in.attention_mask);
    std::printf("[parity] %s: adapted logits max |diff| %.2e\n", adapter, d);
    EXPECT_LT(d, 1e-4);
    // Saved back under PEFT's names, the same tensors.
    test::TempDir tmp;
    save_lora_adapter(l.model, cfg, tmp.path(), "base");
    const auto ours = read_safetensors(tmp.path() / "adapter_model.safetensors");
    const auto theirs = read_safetensors(kFixtures / adapter / "adapter_model.safetensors");
    ASSERT_EQ(ours.size(), theirs.size());
    for (const auto& [n, t] : theirs) {
      ASSERT_TRUE(ours.count(n)) << n;
      EXPECT_EQ(ours.at(n).data, t.data) << n;
    }
    if (std::string(adapter) == "lora_a") {
      merge_lora(l.model);
      EXPECT_FALSE(has_lora(l.model));
      auto merged = l.model->forward(in);
      const double dm = max_diff(merged, tensor_of(lref, "lora_a.logits_merged"), in.attention_mask);
      std::printf("[parity] lora_a merged: logits max |diff| %.2e\n", dm);
      EXPECT_LT(dm, 1e-4);
    }
  }
  // model B has other widths: every adapted module's shape disagrees.
  Loaded b = load("model_b");
  auto msg = test::error_of([&] { load_lora_adapter(b.model, kFixtures / "lora_a"); });
  test::expect_contains(msg, "adapter_model.safetensors");
  test::expect_contains(msg, "another base model");
}

TEST(HfParity, LoraSpecsAndTargetsFollowPeft) {
  const LoraConfig c = LoraConfig::parse("r=16,alpha=32,dropout=0.1,targets=q_proj,v_proj");
  EXPECT_EQ(c.r, 16);
  EXPECT_DOUBLE_EQ(c.scaling(), 2.0);
  EXPECT_EQ(c.targets, (std::vector<std::string>{"q_proj", "v_proj"}));
  EXPECT_TRUE(c.matches("model.layers.3.self_attn.q_proj"));
  EXPECT_FALSE(c.matches("model.layers.3.self_attn.o_proj"));
  EXPECT_FALSE(c.matches("model.layers.3.self_attn.xq_proj"));
  for (const char* bad : {"r=0", "r=2.5", "alpha=-1", "dropout=1", "rank=4", "r", "targets=q_proj,,v_proj"})
    EXPECT_THROW(LoraConfig::parse(bad), Error) << bad;
  test::expect_contains(test::error_of([] { LoraConfig::parse("dropout=abc"); }), "dropout");
  // Nothing matched is an error, not a silent full fine-tuning.
  Loaded l = load("model_a");
  test::expect_contains(test::error_of([&] { apply_lora(l.model, LoraConfig::parse("targets=qkv_nowhere")); }),
                        "qkv_nowhere");
  auto names = apply_lora(l.model, LoraConfig::parse("r=2,targets=q_proj"));
  EXPECT_EQ(names.size(), 2u);  // one per decoder layer
  for (const auto& p : l.model->named_parameters()) EXPECT_EQ(p.value().requires_grad(), is_lora_name(p.key())) << p.key();
  EXPECT_EQ(lora_parameters(l.model).size(), 4u);
  // Adapters never enter a checkpoint's expected tensors.
  for (const auto& [n, s] : l.model->expected_shapes()) EXPECT_FALSE(is_lora_name(n)) << n;
}
