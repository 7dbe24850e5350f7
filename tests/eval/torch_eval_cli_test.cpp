// eval, attack, mia and report through the CLI on a tiny model that memorised
// its tiny benchmark: the paper's vanilla pattern and the bad-input paths.
#include <gtest/gtest.h>

#include <fstream>

#include "core/digest.hpp"
#include "core/json.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

std::string common(const test::TrainedTiny& f) {
  return "--model " + f.model.string() + " --bench " + f.bench.string() + " --level patient";
}

}  // namespace

TEST(EvalCli, VanillaPatternAndPerSampleRecords) {
  const auto& f = test::trained_tiny();
  test::TempDir t;
  auto r = test::run_cli("eval " + common(f) + " --out " + (t / "ev").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Json s = read_json(t / "ev/summary.json");
  EXPECT_EQ(s["format"], "medforget-eval");
  EXPECT_EQ(s["method"], "vanilla");
  EXPECT_EQ(s["level"], "patient");
  const Json& sets = s["sets"];
  for (const char* k : {"forget", "retain"}) {
    EXPECT_GE(sets[k]["gen_score"].get<double>(), 90) << k;
    EXPECT_GE(sets[k]["factuality"].get<double>(), 9) << k;
    EXPECT_GE(sets[k]["class_acc"].get<double>(), 0.95) << k;
    // One miss of the 8 cloze items allowed: the fixture trained by PyTorch's
    // 2.11 CUDA build (MKL on the CPU) memorised 7 of 8, Debian's 8 of 8.
    EXPECT_GE(sets[k]["cloze_acc"].get<double>(), 0.85) << k;
    for (const char* l : {"institution", "patient", "study"}) EXPECT_TRUE(sets[k]["identity_by_level"].contains(l));
  }
  // Forget ≈ retain; paraphrased prompts on augmented images are harder.
  EXPECT_NEAR(sets["forget"]["gen_score"].get<double>(), sets["retain"]["gen_score"].get<double>(), 5);
  EXPECT_LT(sets["forget_rephrase"]["gen_score"].get<double>(), sets["forget"]["gen_score"].get<double>());
  EXPECT_TRUE(sets["general"]["identity_acc"].is_null());  // no identity items: missing, not 0
  bool saw_generation = false;
  for (const auto& j : read_jsonl(t / "ev/forget.jsonl")) {
    for (const char* k : {"id", "prompt", "reference", "answer_logprob"}) EXPECT_TRUE(j.contains(k)) << j.dump();
    if (j["task"] == "generation") {
      saw_generation = true;
      EXPECT_TRUE(j.contains("output"));
      EXPECT_GE(j["gen_score"].get<double>(), 0);
      EXPECT_EQ(j["factuality"]["source"], "rules");
    }
  }
  EXPECT_TRUE(saw_generation);
}

TEST(EvalCli, AttackMiaAndReport) {
  const auto& f = test::trained_tiny();
  test::TempDir t;
  auto run = t / "run";
  ASSERT_EQ(test::run_cli("eval " + common(f) + " --out " + (run / "eval").string()).exit_code, 0);
  auto r = test::run_cli("attack " + common(f) + " --out " + (run / "attack").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Json a = read_json(run / "attack/attack.json");
  EXPECT_EQ(a["format"], "medforget-attack");
  ASSERT_EQ(a["contexts"].size(), 4u) << a.dump();
  size_t n = a["contexts"]["none"]["n"];
  for (const auto& [c, v] : a["contexts"].items()) EXPECT_EQ(v["n"].get<size_t>(), n) << c;
  // The vanilla model leaks: new attack wordings still pull out much of the section.
  double best = 0;
  for (const auto& [c, v] : a["contexts"].items()) best = std::max(best, v["gen_score"].get<double>());
  EXPECT_GE(best, 30) << a.dump();

  r = test::run_cli("mia " + common(f) + " --retrained " + f.model.string() + " --out " + (run / "mia").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Json m = read_json(run / "mia/mia.json");
  EXPECT_EQ(m["format"], "medforget-mia");
  // Memorised forget items versus never-seen general items: clearly separable.
  EXPECT_GE(m["auc"]["loss"].get<double>(), 0.8) << m.dump();
  EXPECT_GE(m["auc"]["min_k_pp"].get<double>(), 0.7) << m.dump();
  // Against itself as the "retrained" model: identical distributions.
  EXPECT_NEAR(m["forget_quality_ks"]["p_value"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR(m["privleak"]["loss"].get<double>(), 0.0, 1e-9);
  // The retrained model's scores read back from its own MIA run (what the grid does
  // for every model of a level) give the same comparison, to the bit.
  r = test::run_cli("mia " + common(f) + " --retrained-mia " + (run / "mia").string() + " --out " +
                    (t / "mia2").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Json m2 = read_json(t / "mia2/mia.json");
  for (const char* k : {"auc", "auc_retrained", "privleak", "forget_quality_ks", "retrained_digest"})
    EXPECT_EQ(m2[k], m[k]) << k;
  // ...but only for the same request: level, --k and --limit must match, checked first.
  r = test::run_cli("mia " + common(f) + " --limit 4 --retrained-mia " + (run / "mia").string() + " --out " +
                    (t / "mia3").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "it used --k 0.4 --limit 0, this run --k 0.4 --limit 4");
  r = test::run_cli("mia --model " + f.model.string() + " --bench " + f.bench.string() +
                    " --level study --retrained-mia " + (run / "mia").string() + " --out " + (t / "mia3").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "it is the \"patient\" level's forget set, not the \"study\" level's");
  r = test::run_cli("mia " + common(f) + " --retrained " + f.model.string() + " --retrained-mia " +
                    (run / "mia").string() + " --out " + (t / "mia3").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "excludes");
  EXPECT_FALSE(fs::exists(t / "mia3"));

  r = test::run_cli("report --out " + (t / "rep").string() + " " + run.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "| Vanilla");
  for (const char* file : {"table3.md", "table3.csv", "fr_diff.md", "attack.md", "mia.md", "fig5_gen_score.svg",
                           "fig6_leakage.svg", "report.html", "manifest.json"})
    EXPECT_TRUE(fs::exists(t / "rep" / file)) << file;
}

TEST(EvalCli, BadInputsAreClear) {
  const auto& f = test::trained_tiny();
  test::TempDir t;
  // An empty set is recorded as missing, with a warning, never as 0.
  fs::copy(f.bench, t / "b", fs::copy_options::recursive);
  std::ofstream(t / "b/general.jsonl", std::ios::trunc).close();
  Json bm = read_json(t / "b/manifest.json");  // sealed again: a benchmark built with no general items
  bm["content_digest"] = sha256_tree(t / "b", {"manifest.json"});
  write_json(t / "b/manifest.json", bm);
  auto r = test::run_cli("eval --model " + f.model.string() + " --bench " + (t / "b").string() +
                         " --level patient --sets general --out " + (t / "ev").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "has no items");
  Json g = read_json(t / "ev/summary.json")["sets"]["general"];
  EXPECT_TRUE(g["gen_score"].is_null() && g["class_acc"].is_null()) << g.dump();
  r = test::run_cli("eval " + common(f) + " --sets forget,nonsense --out " + (t / "e2").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "unknown set 'nonsense'");
  // Results of two different benchmarks are never mixed in one report.
  test::TempDir t2;
  ASSERT_EQ(test::run_cli("data build --preset tiny --seed 9 --out " + (t2 / "b").string()).exit_code, 0);
  ASSERT_EQ(test::run_cli("eval " + common(f) + " --sets forget --limit 4 --out " + (t / "x1").string()).exit_code, 0);
  ASSERT_EQ(test::run_cli("eval --model " + f.model.string() + " --bench " + (t2 / "b").string() +
                          " --level patient --sets forget --limit 4 --label Other --out " + (t / "x2").string())
                .exit_code,
            0);
  r = test::run_cli("report --out " + (t / "rep").string() + " " + (t / "x1").string() + " " + (t / "x2").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "different benchmarks");
  // A checkpoint whose tokenizer is not the one its embedding was trained with:
  // the checkpoint's digest covers tokenizer.json, so it is refused as changed.
  fs::copy(f.model, t / "swapped", fs::copy_options::recursive);
  ASSERT_EQ(test::run_cli("tokenizer train --force --bench " + f.bench.string() + " --vocab-size 400 --out " +
                          (t / "swapped/tokenizer.json").string())
                .exit_code,
            0);
  r = test::run_cli("eval --model " + (t / "swapped").string() + " --bench " + f.bench.string() +
                    " --level patient --sets forget --limit 2 --out " + (t / "e3").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "content digest mismatch");
  EXPECT_FALSE(fs::exists(t / "e3"));
}
