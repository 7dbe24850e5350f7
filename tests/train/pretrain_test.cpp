// The pretrained regime at tiny scale, through the CLI: pretrain (stopped and
// resumed) → LoRA fine-tuning merged → unlearning → evaluation, each step
// asserted on its measured effect.
#include <gtest/gtest.h>

#include "core/fs.hpp"
#include "core/json.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

Json eval_sets(const fs::path& model, const fs::path& bench, const fs::path& out) {
  auto r = test::run_cli("eval --model " + model.string() + " --bench " + bench.string() + " --level patient --out " +
                         out.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_json(out / "summary.json")["sets"];
}

double gen(const Json& sets, const char* set) { return sets[set]["gen_score"].get<double>(); }

}  // namespace

TEST(Pretrain, PretrainedRegimeBeatsScratchOnHeldOutAndLoraMemorises) {
  const auto& f = test::trained_tiny();
  test::TempDir t;
  const fs::path pre = t / "pre", vanilla = t / "vanilla";
  // A short schedule (3 synthetic corpora, 3 epochs: about 650 steps), killed after 120 steps and resumed
  // from the snapshot of step 100.
  const std::string cmd = "pretrain --preset tiny --corpora 3 --epochs 3 --seed 7 --checkpoint-every 50 --exclude " +
                          f.bench.string() + " --out " + pre.string();
  auto r = test::run_cli(cmd + " --stop-after 120");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("run the same command again to resume"), std::string::npos) << r.output;
  r = test::run_cli(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resumed from step 100"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(pre.string() + ".partial"));

  // The loss curve: in the manifest (steps increasing across the resume, loss falling) and drawn.
  const Json params = read_json(pre / "manifest.json")["params"];
  const Json& curve = params["loss_curve"];
  ASSERT_GE(curve.size(), 100u) << params.dump();
  for (size_t i = 1; i < curve.size(); ++i) ASSERT_GT(curve[i][0].get<int64_t>(), curve[i - 1][0].get<int64_t>());
  EXPECT_EQ(curve.back()[0].get<int64_t>(), params["train_result"]["steps"].get<int64_t>());
  EXPECT_LT(curve.back()[1].get<double>(), 0.5 * curve.front()[1].get<double>()) << curve.dump();
  const std::string svg = read_text(pre / "loss_curve.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_EQ(params["regime"], "pretrained");
  for (const char* task : {"generation", "cloze", "classification"})
    EXPECT_GT(params["set_counts"]["tasks"].value(task, 0), 100) << task;
  EXPECT_FALSE(params["set_counts"]["tasks"].contains("identity"));

  // Held-out items (general.jsonl: institutions neither model saw): the pretrained
  // model, before any fine-tuning, beats the model trained from scratch on the benchmark.
  const Json pre_sets = eval_sets(pre, f.bench, t / "ev_pre");
  const Json scratch_sets = eval_sets(f.model, f.bench, t / "ev_scratch");
  EXPECT_GT(gen(pre_sets, "general"), gen(scratch_sets, "general") + 5)
      << pre_sets["general"].dump() << " vs " << scratch_sets["general"].dump();

  // LoRA fine-tuning, merged: the adapters memorise the fine-tuning set.
  r = test::run_cli("finetune --bench " + f.bench.string() + " --model " + pre.string() +
                    " --lora r=16,alpha=32,dropout=0 --merge --epochs 30 --lr 3e-3 --out " + vanilla.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json van = eval_sets(vanilla, f.bench, t / "ev_vanilla");
  EXPECT_GE(gen(van, "retain"), 75) << van["retain"].dump();
  EXPECT_GE(gen(van, "forget"), 60) << van["forget"].dump();
  EXPECT_GT(gen(van, "retain"), gen(pre_sets, "retain") + 30);
  const Json vparams = read_json(vanilla / "manifest.json")["params"];
  EXPECT_EQ(vparams["merge"], true);
  EXPECT_EQ(vparams["lora_spec"]["r"], 16);

  // Unlearning the patient lowers the forget set below vanilla.
  r = test::run_cli("unlearn --model " + vanilla.string() + " --bench " + f.bench.string() +
                    " --level patient --method graddiff --out " + (t / "gd").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json gd = eval_sets(t / "gd", f.bench, t / "ev_gd");
  EXPECT_LT(gen(gd, "forget"), gen(van, "forget") - 10) << gd["forget"].dump();

  // Retrain starts where vanilla started: from the pretrained model, with adapters of the same shape.
  r = test::run_cli("unlearn --model " + vanilla.string() + " --bench " + f.bench.string() +
                    " --level patient --method retrain --out " + (t / "rt").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json prov = read_json(t / "rt/provenance.json");
  EXPECT_NE(prov.dump().find("pretrained model " + fs::absolute(pre).string()), std::string::npos) << prov.dump();
  const Json rt = eval_sets(t / "rt", f.bench, t / "ev_rt");
  EXPECT_GE(gen(rt, "retain"), 75) << rt["retain"].dump();
  EXPECT_LT(gen(rt, "forget"), gen(van, "forget")) << rt["forget"].dump();
}

TEST(Pretrain, BadInputsFailBeforeAnyWork) {
  test::TempDir t;
  auto r = test::run_cli("pretrain --preset huge --out " + (t / "a").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("huge"), std::string::npos) << r.output;
  r = test::run_cli("pretrain --preset tiny --data-preset enormous --out " + (t / "b").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("enormous"), std::string::npos) << r.output;
  r = test::run_cli("pretrain --preset tiny --corpora 0 --out " + (t / "c").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("corpora"), std::string::npos) << r.output;
  r = test::run_cli("pretrain --preset tiny --exclude " + (t / "missing").string() + " --out " + (t / "d").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("missing"), std::string::npos) << r.output;
  r = test::run_cli("pretrain --preset tiny --epochs 0 --out " + (t / "e").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("epochs"), std::string::npos) << r.output;
  for (const char* d : {"a", "b", "c", "d", "e"}) EXPECT_FALSE(fs::exists(t / d)) << d;
  // A stopped run with other options is not resumed with them.
  r = test::run_cli("pretrain --preset tiny --corpora 1 --epochs 1 --stop-after 2 --out " + (t / "f").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_cli("pretrain --preset tiny --corpora 1 --epochs 2 --out " + (t / "f").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("different options"), std::string::npos) << r.output;
}
