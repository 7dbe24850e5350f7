// --device cuda end to end: every stage of the pipeline (fine-tuning, each
// unlearning method, evaluation, attack, MIA) runs on the GPU and agrees with
// the same stage on the CPU. Skipped where libtorch sees no CUDA device; the
// bad-device errors are checked everywhere.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "model/safetensors.hpp"
#include "test_util.hpp"
#include "unlearn/unlearn_helpers.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

// Largest |a - b| over every tensor of two checkpoints, relative to the largest |a|.
double max_relative_weight_gap(const fs::path& a, const fs::path& b) {
  auto ta = read_safetensors(a / "model.safetensors"), tb = read_safetensors(b / "model.safetensors");
  EXPECT_EQ(ta.size(), tb.size());
  double gap = 0;
  for (const auto& [name, raw] : ta) {
    auto x = to_torch(raw).to(torch::kFloat64), y = test::tensor_of(tb, name).to(torch::kFloat64);
    const double scale = std::max(x.abs().max().item<double>(), 1e-6);
    gap = std::max(gap, (x - y).abs().max().item<double>() / scale);
  }
  return gap;
}

std::map<std::string, double> logprob_by_id(const fs::path& jsonl) {
  std::map<std::string, double> m;
  for (const auto& j : read_jsonl(jsonl)) m[j.at("id").get<std::string>()] = j.at("answer_mean_logprob").get<double>();
  return m;
}

}  // namespace

TEST(Cuda, BadDevicesFailBeforeAnyWork) {
  const auto& f = test::trained_tiny();
  test::TempDir t;
  for (const std::string dev : {"tpu", "cuda:x", "cuda:99", "cuda0"}) {
    auto r = test::run_cli("eval --model " + f.model.string() + " --bench " + f.bench.string() +
                           " --level patient --sets forget --device " + dev + " --out " + (t / "e").string());
    EXPECT_NE(r.exit_code, 0) << dev;
    test::expect_contains(r.output, "--device");
    EXPECT_FALSE(fs::exists(t / "e" / "forget.jsonl")) << dev;
  }
  // Malformed names fail as such, also on a GPU machine: libtorch's parser alone
  // would wrap "cuda:256" to cuda:0 (an 8-bit index) and read "cuda:01" as cuda:1.
  for (const std::string dev : {"cuda:256", "cuda:01", "cuda:-1", "cpu:0", "cuda:999999"}) {
    auto r = test::run_cli("run --preset tiny --dry-run --device " + dev + " --out " + (t / "run").string());
    EXPECT_NE(r.exit_code, 0) << dev;
    test::expect_contains(r.output, "expected cpu, cuda or cuda:N");
  }
  auto r = test::run_cli("run --preset tiny --device cuda:99 --out " + (t / "run").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "--device cuda:99");
  EXPECT_FALSE(fs::exists(t / "run" / "run_config.json"));
}

TEST(Cuda, EveryStageRunsOnTheGpuAndAgreesWithTheCpu) {
  // MEDFORGET_TEST_GPU=cpu runs the same comparisons CPU against CPU, to check
  // the test itself on a machine with no GPU.
  const char* env = std::getenv("MEDFORGET_TEST_GPU");
  const std::string gpu = env && *env ? env : "cuda";
  if (gpu != "cpu" && !torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  // Each stage runs once per device; outputs are named by tag.
  const std::vector<std::pair<std::string, std::string>> devices = {{"cpu", "cpu"}, {"gpu", gpu}};
  const auto& f = test::trained_tiny();
  test::TempDir t;
  const std::string model = " --model " + f.model.string(), bench = " --bench " + f.bench.string();

  // Evaluation: the same answers' likelihoods on both devices.
  for (const auto& [tag, dev] : devices) {
    auto r = test::run_cli("eval" + model + bench + " --level patient --sets forget,retain --device " + dev +
                           " --out " + (t / ("ev-" + tag)).string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  auto lp_cpu = logprob_by_id(t / "ev-cpu/forget.jsonl"), lp_gpu = logprob_by_id(t / "ev-gpu/forget.jsonl");
  ASSERT_EQ(lp_cpu.size(), lp_gpu.size());
  for (const auto& [id, v] : lp_cpu) EXPECT_NEAR(lp_gpu.at(id), v, 2e-3) << id;
  Json s_cpu = read_json(t / "ev-cpu/summary.json")["sets"], s_gpu = read_json(t / "ev-gpu/summary.json")["sets"];
  for (const char* set : {"forget", "retain"})
    EXPECT_NEAR(s_gpu[set]["gen_score"].get<double>(), s_cpu[set]["gen_score"].get<double>(), 3.0) << set;

  // The training-free methods compute the same edit on both devices.
  for (const std::string method : {"chip", "manu"}) {
    for (const auto& [tag, dev] : devices) {
      auto r = test::run_cli("unlearn" + model + bench + " --level patient --method " + method + " --device " + dev +
                             " --out " + (t / (method + "-" + tag)).string());
      ASSERT_EQ(r.exit_code, 0) << method << " on " << dev << "\n" << r.output;
    }
    EXPECT_LT(max_relative_weight_gap(t / (method + "-cpu"), t / (method + "-gpu")), 1e-3) << method;
  }

  // The gradient methods train on the GPU and lower the forget likelihood.
  const double v_forget = test::mean_answer_logprob(t / "ev-cpu/forget.jsonl");
  for (const std::string& spec : std::vector<std::string>{"graddiff --opt epochs=3", "kl_min --opt epochs=3", "mip_editor --opt epochs=3",
                                 "npo --opt epochs=3 --opt reference=" + f.model.string()}) {
    const std::string name = spec.substr(0, spec.find(' '));
    auto out = t / (name + "-gpu");
    auto r = test::run_cli("unlearn" + model + bench + " --level patient --method " + spec + " --device " + gpu + " --out " +
                           out.string());
    ASSERT_EQ(r.exit_code, 0) << name << "\n" << r.output;
    test::eval_sets(out, f.bench, t / ("ev-" + name));
    EXPECT_LT(test::mean_answer_logprob(t / ("ev-" + name) / "forget.jsonl"), v_forget - 0.2) << name;
  }

  // Fine-tuning (and with it Retrain) learns the same on the GPU as on the CPU.
  std::map<std::string, double> last_loss;
  for (const auto& [tag, dev] : devices) {
    auto out = t / ("ft-" + tag);
    auto r = test::run_cli("finetune" + bench + " --out " + out.string() + " --preset tiny --epochs 4 --device " + dev);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    last_loss[tag] = read_json(out / "manifest.json")["params"]["train_result"]["mean_last_epoch_loss"].get<double>();
  }
  EXPECT_NEAR(last_loss["gpu"], last_loss["cpu"], 0.05 * last_loss["cpu"]);

  // Attack and MIA on the GPU give the CPU's numbers.
  for (const auto& [tag, dev] : devices) {
    auto r = test::run_cli("mia" + model + bench + " --level patient --retrained " + f.model.string() + " --device " +
                           dev + " --out " + (t / ("mia-" + tag)).string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = test::run_cli("attack" + model + bench + " --level patient --device " + dev + " --out " +
                      (t / ("at-" + tag)).string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  Json auc_cpu = read_json(t / "mia-cpu/mia.json")["auc"], auc_gpu = read_json(t / "mia-gpu/mia.json")["auc"];
  ASSERT_FALSE(auc_cpu.empty());
  for (const auto& [score, v] : auc_cpu.items()) EXPECT_NEAR(auc_gpu[score].get<double>(), v.get<double>(), 0.05) << score;
  Json at_cpu = read_json(t / "at-cpu/attack.json")["contexts"], at_gpu = read_json(t / "at-gpu/attack.json")["contexts"];
  ASSERT_FALSE(at_cpu.empty());
  for (const auto& [ctx, v] : at_cpu.items())
    EXPECT_NEAR(at_gpu[ctx]["gen_score"].get<double>(), v["gen_score"].get<double>(), 3.0) << ctx;
}
