// MANU and MIP-Editor on a tiny model that memorised a tiny benchmark: which
// weights they touch, and that they forget more than they lose.
#include <gtest/gtest.h>

#include <set>

#include "core/json.hpp"
#include "model/checkpoint.hpp"
#include "model/safetensors.hpp"
#include "test_util.hpp"
#include "unlearn/unlearn_helpers.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

struct Unlearned {
  fs::path dir;
  Json report;
  double d_forget = 0, d_retain = 0;  // drop in mean answer log-probability
};

Unlearned unlearn_and_measure(const test::TempDir& t, const std::string& method, const std::string& opts) {
  const auto& f = test::trained_tiny();
  Unlearned u;
  u.dir = t / method;
  auto r = test::run_cli("unlearn --model " + f.model.string() + " --bench " + f.bench.string() +
                         " --level patient --method " + method + " " + opts + " --out " + u.dir.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  u.report = read_json(u.dir / "provenance.json").at("report");
  test::eval_sets(f.model, f.bench, t / (method + "-ev0"));
  test::eval_sets(u.dir, f.bench, t / (method + "-ev1"));
  auto lp = [&](const std::string& ev, const char* set) {
    return test::mean_answer_logprob(t / (method + ev) / (std::string(set) + ".jsonl"));
  };
  u.d_forget = lp("-ev0", "forget") - lp("-ev1", "forget");
  u.d_retain = lp("-ev0", "retain") - lp("-ev1", "retain");
  return u;
}

// Every tensor except `changed` (name → bool mask of entries allowed to differ)
// is bit-identical between the two checkpoints.
void expect_only(const fs::path& a, const fs::path& b, const std::map<std::string, torch::Tensor>& changed) {
  auto ta = read_safetensors(a / "model.safetensors"), tb = read_safetensors(b / "model.safetensors");
  ASSERT_EQ(ta.size(), tb.size());
  for (const auto& [name, raw] : ta) {
    auto x = to_torch(raw), y = test::tensor_of(tb, name);
    auto it = changed.find(name);
    if (it == changed.end()) {
      EXPECT_TRUE(torch::equal(x, y)) << name << " changed";
    } else {
      auto keep = it->second.logical_not();
      EXPECT_TRUE(torch::equal(x.index({keep}), y.index({keep}))) << name << " changed outside the selected entries";
    }
  }
}

torch::Tensor rows_mask(const std::vector<int64_t>& shape, const std::vector<int64_t>& ids, int dim) {
  auto m = torch::zeros(shape, torch::kBool);
  m.index_fill_(dim, torch::tensor(ids, torch::kLong), true);
  return m;
}

}  // namespace

TEST(UnlearnCli, ManuZeroesOnlyThePrunedNeuronsAndForgetsMoreThanItLoses) {
  test::TempDir t;
  const auto& f = test::trained_tiny();
  // The tiny model holds its answers at log-probability ~ -0.003: pruning a few
  // neurons moves that little, so this prunes 30% of every layer to measure.
  auto u = unlearn_and_measure(t, "manu", "--opt alpha=0.3 --opt layer_fraction=1");
  auto before = read_safetensors(f.model / "model.safetensors"), after = read_safetensors(u.dir / "model.safetensors");
  const Json& layers = u.report.at("layers");
  ASSERT_EQ(layers.size(), 3u);  // the tiny model's two decoder layers and its one vision block
  std::map<std::string, torch::Tensor> changed;
  std::set<std::string> mlps;
  for (const auto& l : layers) {
    const std::string mlp = l.at("mlp");
    mlps.insert(mlp);
    auto ids = l.at("pruned").get<std::vector<int64_t>>();
    EXPECT_EQ(static_cast<int64_t>(ids.size()), std::llround(0.3 * l.at("neurons").get<double>())) << mlp;
    for (const char* proj : {".gate_proj", ".up_proj"}) {
      for (const char* kind : {".weight", ".bias"}) {
        const std::string name = mlp + proj + kind;
        if (!after.count(name)) continue;
        auto w = test::tensor_of(after, name);
        auto sel = w.index_select(0, torch::tensor(ids, torch::kLong));
        EXPECT_EQ(sel.abs().sum().item<float>(), 0.f) << name;
        EXPECT_GT(test::tensor_of(before, name).index_select(0, torch::tensor(ids, torch::kLong)).abs().sum().item<float>(), 0.f);
        changed[name] = rows_mask(w.sizes().vec(), ids, 0);
      }
    }
  }
  EXPECT_TRUE(mlps.count("model.layers.1.mlp")) << layers.dump();
  EXPECT_TRUE(mlps.count("visual.blocks.0.mlp")) << layers.dump();
  expect_only(f.model, u.dir, changed);
  EXPECT_GT(u.d_forget, u.d_retain) << "forget drop " << u.d_forget << ", retain drop " << u.d_retain;
  EXPECT_GT(u.d_forget, 0.005);
}

TEST(UnlearnCli, MipEditorTrainsOnlyItsPathAndForgetsMoreThanItLoses) {
  test::TempDir t;
  const auto& f = test::trained_tiny();
  auto u = unlearn_and_measure(t, "mip_editor", "");
  const Json& path = u.report.at("path");
  ASSERT_EQ(path.size(), 3u);  // both decoder layers and the vision block
  EXPECT_EQ(u.report.at("hidden_state_layer").get<int>(), 1);
  auto after = read_safetensors(u.dir / "model.safetensors");
  std::map<std::string, torch::Tensor> changed;
  int moved = 0;
  for (const auto& p : path) {
    const std::string mlp = p.at("mlp");
    auto ids = p.at("neurons").get<std::vector<int64_t>>();
    EXPECT_EQ(ids.size(), 5u) << mlp;  // top_k
    for (const char* proj : {".gate_proj", ".up_proj", ".down_proj"}) {
      const bool cols = std::string(proj) == ".down_proj";
      for (const char* kind : {".weight", ".bias"}) {
        const std::string name = mlp + proj + kind;
        if (!after.count(name) || (cols && std::string(kind) == ".bias")) continue;
        changed[name] = rows_mask(test::tensor_of(after, name).sizes().vec(), ids, cols ? 1 : 0);
      }
    }
    // Pruned, then re-trained: the first path layer's up_proj rows are no longer zero.
    auto up = test::tensor_of(after, mlp + ".up_proj.weight").index_select(0, torch::tensor(ids, torch::kLong));
    if (up.abs().sum().item<float>() > 0) ++moved;
  }
  EXPECT_GE(moved, 1);
  expect_only(f.model, u.dir, changed);
  EXPECT_GT(u.d_forget, u.d_retain) << "forget drop " << u.d_forget << ", retain drop " << u.d_retain;
  EXPECT_GT(u.d_forget, 0.05);
  EXPECT_GT(u.report.at("steps").get<int>(), 0);
}

TEST(UnlearnCli, NeuronMethodsRejectBadOptions) {
  const auto& f = test::trained_tiny();
  test::TempDir t;
  const std::string base = "unlearn --model " + f.model.string() + " --bench " + f.bench.string() +
                           " --level patient --out " + (t / "o").string();
  for (const auto& [args, msg] : std::vector<std::pair<std::string, std::string>>{
           {"--method manu --opt alpha=0", "alpha must be in (0, 1]"},
           {"--method manu --opt vision_layer_fraction=2", "vision_layer_fraction must be in (0, 1]"},
           {"--method mip_editor --opt top_k=0", "top_k must be >= 1"},
           {"--method mip_editor --opt layer_depth=0", "layer_depth must be in (0, 1]"}}) {
    auto r = test::run_cli(base + " " + args);
    EXPECT_NE(r.exit_code, 0) << args;
    test::expect_contains(r.output, msg);
    EXPECT_FALSE(fs::exists(t / "o")) << args;
  }
}
