// `medforget run`: configuration checks before any work, stage caching keyed
// by inputs and options, resume after a kill, --status.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>

#include "core/fs.hpp"
#include "core/json.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/run_config.hpp"
#include "pipeline/stage_files.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

// A fast tiny run: few epochs, a few items per set, CHIP only, no attack.
fs::path write_config(const fs::path& dir, const std::string& chip_k) {
  Json c = {{"preset", "tiny"},
            {"methods", Json::array({{{"method", "chip"}, {"options", {{"k", std::stod(chip_k)}}}}})},
            {"attack", false},
            {"finetune", {{"epochs", 4}}},
            {"eval_limit", 6}};
  auto p = dir / ("config-" + chip_k + ".json");
  write_json(p, c);
  return p;
}

}  // namespace

TEST(RunConfig, DefaultsOverridesAndErrors) {
  RunConfig r = default_run_config("small");
  EXPECT_EQ(r.model_preset, "small");
  ASSERT_EQ(r.variants.size(), 2u);
  EXPECT_EQ(r.variants[0].method, "chip");
  // The demo's CHIP acts at our scale: half the neurons of every layer.
  EXPECT_DOUBLE_EQ(r.variants[0].options["k"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(r.variants[0].options["layer_fraction"].get<double>(), 1.0);
  EXPECT_EQ(r.levels, std::vector<std::string>{"patient"});
  RunConfig g = default_grid_config("paper");
  EXPECT_EQ(g.model_preset, "base");
  EXPECT_EQ(g.levels.size(), 4u);
  EXPECT_TRUE(g.mia);
  // The grid: CHIP at the paper's setting, at ours, and Table 5's ablations of ours.
  auto variant = [&](const std::string& name) {
    auto it = std::find_if(g.variants.begin(), g.variants.end(), [&](const RunVariant& v) { return v.name == name; });
    EXPECT_NE(it, g.variants.end()) << name;
    return it == g.variants.end() ? Json::object() : it->options;
  };
  EXPECT_TRUE(variant("chip").empty());
  EXPECT_DOUBLE_EQ(variant("chip_k50_all")["k"].get<double>(), 0.5);
  EXPECT_FALSE(variant("chip_no_siblings")["siblings"].get<bool>());
  EXPECT_DOUBLE_EQ(variant("chip_zero_out")["k"].get<double>(), 0.5);
  // Baselines also at a setting that acts at our scale, beside their defaults.
  EXPECT_TRUE(variant("npo").empty());
  EXPECT_DOUBLE_EQ(variant("npo_rt")["retain_weight"].get<double>(), 1.0);
  EXPECT_TRUE(variant("manu").empty());
  EXPECT_DOUBLE_EQ(variant("manu_a30_all")["alpha"].get<double>(), 0.3);
  EXPECT_DOUBLE_EQ(variant("manu_a30_all")["layer_fraction"].get<double>(), 1.0);
  auto c = apply_config(r, Json{{"preset", "tiny"}, {"methods", {"npo", {{"method", "chip"}, {"name", "chip_z"}, {"options", {{"zero_out", true}}}}}}}, "cfg");
  EXPECT_EQ(c.model_preset, "tiny");
  EXPECT_EQ(c.variants[0].label, "NPO");
  EXPECT_EQ(c.variants[1].name, "chip_z");
  test::expect_contains(test::error_of([&] { apply_config(r, Json{{"levles", {"patient"}}}, "cfg.json"); }),
                        "cfg.json: unknown field 'levles'");
  const std::vector<std::string> known{"chip", "graddiff"};
  test::expect_contains(test::error_of([&] { validate_config(apply_config(r, Json{{"methods", {"erase"}}}, "c"), known); }),
                        "unknown method 'erase'");
  test::expect_contains(test::error_of([&] { validate_config(apply_config(r, Json{{"levels", {"ward"}}}, "c"), known); }),
                        "ward");
  test::expect_contains(test::error_of([&] { validate_config(apply_config(r, Json{{"methods", {"chip", "chip"}}}, "c"), known); }),
                        "used twice");
  // The plan: NPO takes the level's Retrain model as reference when there is one.
  RunConfig n = apply_config(r, Json{{"methods", {"npo", "retrain"}}, {"levels", {"study"}}}, "c");
  auto stages = plan_stages(n);
  auto npo = std::find_if(stages.begin(), stages.end(), [](const Stage& s) { return s.name == "unlearn/npo-study"; });
  ASSERT_NE(npo, stages.end());
  EXPECT_NE(std::find(npo->deps.begin(), npo->deps.end(), "unlearn/retrain-study"), npo->deps.end());
  EXPECT_NE(std::find(npo->args.begin(), npo->args.end(), "reference=$OUT/models/retrain-study"), npo->args.end());
}

// Membership inference: Retrain's own stage scores the oracle once per level, and
// every other model's stage reads those scores instead of running it again.
TEST(RunConfig, MiaStagesShareRetrainsPass) {
  const RunConfig c = apply_config(default_run_config("tiny"), Json{{"methods", {"retrain", "graddiff"}}, {"mia", true}},
                                   "cfg");
  const auto stages = plan_stages(c);
  auto stage = [&](const std::string& name) {
    auto it = std::find_if(stages.begin(), stages.end(), [&](const Stage& st) { return st.name == name; });
    EXPECT_NE(it, stages.end()) << name;
    return it == stages.end() ? Stage{} : *it;
  };
  auto after = [](const Stage& st, const std::string& flag) {
    auto it = std::find(st.args.begin(), st.args.end(), flag);
    return it == st.args.end() || it + 1 == st.args.end() ? std::string("(absent)") : *(it + 1);
  };
  auto reads = [](const Stage& st, const std::string& dep) {
    return std::find(st.deps.begin(), st.deps.end(), dep) != st.deps.end();
  };
  const Stage retrain = stage("mia/retrain-patient");
  EXPECT_EQ(after(retrain, "--model"), "$OUT/models/retrain-patient");
  EXPECT_EQ(after(retrain, "--retrained"), "$OUT/models/retrain-patient");
  EXPECT_EQ(after(retrain, "--label"), "Retrain");
  EXPECT_EQ(after(stage("mia/vanilla-patient"), "--label"), "Vanilla");
  for (const char* other : {"mia/vanilla-patient", "mia/graddiff-patient"}) {
    const Stage st = stage(other);
    EXPECT_EQ(after(st, "--retrained-mia"), "$OUT/mia/retrain-patient") << other;
    EXPECT_EQ(after(st, "--retrained"), "(absent)") << other;
    EXPECT_TRUE(reads(st, "mia/retrain-patient")) << other;
  }
  // The scheduler runs a plan only if every stage comes after the stages it reads.
  for (size_t i = 0; i < stages.size(); ++i)
    for (const auto& d : stages[i].deps)
      EXPECT_TRUE(std::any_of(stages.begin(), stages.begin() + i, [&](const Stage& st) { return st.name == d; }))
          << stages[i].name << " reads " << d << ", planned after it";
  // Selecting one model's MIA brings Retrain's along.
  const auto sel = select_stages(stages, {"mia/graddiff*"});
  EXPECT_TRUE(std::any_of(sel.begin(), sel.end(), [](const Stage& st) { return st.name == "mia/retrain-patient"; }));
}

TEST(RunCli, BadConfigurationFailsBeforeAnyWork) {
  test::TempDir t;
  for (const auto& [cfg, msg] : std::vector<std::pair<Json, std::string>>{
           {{{"methods", {"chip", "forgetall"}}}, "unknown method 'forgetall'"},
           {{{"levels", {"patient", "ward"}}}, "ward"},
           {{{"methods", {{{"method", "chip"}, {"options", {{"k", 3.0}}}}}}}, "k must be in (0, 1]"},
           {{{"methods", {{{"method", "graddiff"}, {"options", {{"lrr", 1.0}}}}}}}, "has no option 'lrr'"},
           {{{"preset", "huge"}}, "huge"}}) {
    write_json(t / "c.json", cfg);
    auto r = test::run_cli("run --config " + (t / "c.json").string() + " --out " + (t / "out").string());
    EXPECT_NE(r.exit_code, 0) << cfg.dump();
    test::expect_contains(r.output, msg);
    EXPECT_FALSE(fs::exists(t / "out")) << cfg.dump();
  }
  // --status of a directory with no run yet: every stage pending, nothing created.
  auto r = test::run_cli("grid --preset tiny --status --out " + (t / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "no run there yet");
  EXPECT_EQ(count(r.output, "  pending  "), count(r.output, "\n  ")) << r.output;
  test::expect_contains(r.output, "  pending  unlearn/retrain-section");
  EXPECT_FALSE(fs::exists(t / "out"));
  r = test::run_cli("run --preset tiny --status --dry-run --out " + (t / "out").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "excludes");
  r = test::run_cli("run --preset tiny --jobs 0 --out " + (t / "out").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "jobs must be >= 1");
  EXPECT_FALSE(fs::exists(t / "out"));
}

// --jobs: stages that do not read each other run at once; when one fails, the
// running ones finish (and are kept), nothing new starts, and a rerun resumes.
TEST(RunCli, JobsRunIndependentStagesAtOnceAndAFailureKeepsTheOthersWork) {
  test::TempDir t;
  auto out = t / "run";
  const Json chip = {{"method", "chip"}, {"options", {{"k", 0.1}}}};
  // Passes the checks before any work (a reference path is only read by the stage), fails in its stage.
  const Json bad_npo = {{"method", "npo"}, {"name", "npo_bad"}, {"options", {{"reference", (t / "no-model").string()}}}};
  Json c = {{"preset", "tiny"},
            {"methods", Json::array({chip, bad_npo})},
            {"attack", false},
            {"finetune", {{"epochs", 4}}},
            {"eval_limit", 6}};
  write_json(t / "bad.json", c);
  const std::string run = "run --jobs 3 --out " + out.string() + " --config ";
  auto r = test::run_cli(run + (t / "bad.json").string());
  ASSERT_NE(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "3 at a time");
  test::expect_contains(r.output, "stage 'unlearn/npo_bad-patient' failed");
  auto ledger = [&](const std::string& name) { return read_json(out / ".stages" / (name + ".json")); };
  // After fine-tuning, the three ready stages started together; the two good ones ran to the end.
  const Json ev = ledger("eval_vanilla-patient"), un = ledger("unlearn_chip-patient"), bad = ledger("unlearn_npo_bad-patient");
  EXPECT_EQ(ev["state"], "done");
  EXPECT_EQ(un["state"], "done");
  EXPECT_LT(ev["started"].get<double>(), un["finished"].get<double>());
  EXPECT_LT(un["started"].get<double>(), ev["finished"].get<double>());
  EXPECT_TRUE(fs::exists(out / "models/chip-patient/manifest.json"));
  EXPECT_EQ(bad["state"], "failed");
  EXPECT_NE(bad["exit"].get<int>(), 0);
  // The failure stopped new stages: none started after it.
  for (const auto& f : fs::directory_iterator(out / ".stages"))
    EXPECT_LE(read_json(f.path())["started"].get<double>(), bad["finished"].get<double>()) << f.path();
  EXPECT_FALSE(fs::exists(out / "report/manifest.json"));
  // Without the bad method the rerun keeps the finished work and runs the rest.
  const bool chip_evaluated = fs::exists(out / "eval/chip-patient/manifest.json");  // if it won the race
  c["methods"] = Json::array({chip});
  write_json(t / "good.json", c);
  r = test::run_cli(run + (t / "good.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "unlearn/chip-patient             cached");
  test::expect_contains(r.output, "eval/vanilla-patient             cached");
  test::expect_contains(r.output, "report                           done in");
  test::expect_contains(r.output, "| CHIP");
  EXPECT_EQ(count(r.output, " done in "), chip_evaluated ? 1u : 2u) << r.output;
}

// --only: part of a long run first (the selected stages and what they read);
// a later run without it finds them done.
TEST(RunCli, OnlyRunsTheSelectedStagesALaterRunCachesThemAndRedoMakesOneAgain) {
  test::TempDir t;
  const auto out = t / "run";
  const std::string run = "run --out " + out.string() + " --config " + write_config(t.path(), "0.1").string();
  auto r = test::run_cli(run + " --only 'eval/chip*' --dry-run");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* s : {"data ", "finetune ", "unlearn/chip-patient ", "eval/chip-patient "})
    EXPECT_EQ(count(r.output, std::string("\n") + s) + (r.output.rfind(s, 0) == 0), 1u) << s << "\n" << r.output;
  EXPECT_EQ(count(r.output, "eval/vanilla-patient"), 0u) << r.output;
  EXPECT_EQ(count(r.output, "\nreport "), 0u) << r.output;
  r = test::run_cli(run + " --only 'eval/chip*,unlearn/erase*'");
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "'unlearn/erase*' matches no stage");
  EXPECT_FALSE(fs::exists(out));
  r = test::run_cli(run + " --only x --status");
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "excludes");
  r = test::run_cli(run + " --only 'eval/chip*'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "4 stages of 6 (--only)");
  test::expect_contains(r.output, "2 of the 6 planned stages were not selected (--only)");
  EXPECT_EQ(count(r.output, " done in "), 4u) << r.output;
  EXPECT_TRUE(fs::exists(out / "eval/chip-patient/manifest.json"));
  EXPECT_FALSE(fs::exists(out / "eval/vanilla-patient"));
  EXPECT_FALSE(fs::exists(out / "report"));
  // The whole run: only what --only left out runs.
  r = test::run_cli(run);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count(r.output, " cached\n"), 4u) << r.output;
  test::expect_contains(r.output, "eval/vanilla-patient             done in");
  test::expect_contains(r.output, "report                           done in");
  EXPECT_EQ(count(r.output, " done in "), 2u) << r.output;
  test::expect_contains(r.output, "| CHIP");
  // --redo makes a stage again from scratch (after a fix to its method), and what
  // reads it runs again: its output is new (its provenance has a new wall time),
  // though CHIP here gives the same weights to the byte.
  r = test::run_cli(run + " --redo 'unlearn/erase*'");
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "--redo: 'unlearn/erase*' matches no stage");
  r = test::run_cli(run + " --redo x --status");
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "excludes");
  r = test::run_cli(run + " --redo 'unlearn/chip*' --dry-run");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "unlearn/chip-patient                 (redo) medforget unlearn");
  EXPECT_TRUE(fs::exists(out / "models/chip-patient/manifest.json"));  // a dry run removes nothing
  const std::string weights = read_text(out / "models/chip-patient/model.safetensors");
  fs::create_directories(out / "models/chip-patient.partial");  // an old build's unfinished attempt
  std::ofstream(out / "logs/unlearn_chip-patient.log") << "OLD BUILD\n";
  r = test::run_cli(run + " --redo 'unlearn/chip*'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "--redo: unlearn/chip-patient runs again");
  test::expect_contains(r.output, "unlearn/chip-patient             done in");
  test::expect_contains(r.output, "eval/chip-patient                done in");
  test::expect_contains(r.output, "report                           done in");
  EXPECT_EQ(count(r.output, " done in "), 3u) << r.output;
  EXPECT_EQ(count(r.output, " cached\n"), 3u) << r.output;  // data, finetune, eval/vanilla
  EXPECT_EQ(read_text(out / "models/chip-patient/model.safetensors"), weights);
  EXPECT_FALSE(fs::exists(out / "models/chip-patient.partial"));
  EXPECT_EQ(read_text(out / "logs/unlearn_chip-patient.log").find("OLD BUILD"), std::string::npos);
}

TEST(RunCli, SecondRunIsCachedAChangedOptionRecomputesOnlyItsStagesAndAKillResumes) {
  test::TempDir t;
  auto out = t / "run";
  auto cfg = write_config(t.path(), "0.1");
  const std::string run = "run --out " + out.string() + " --config ";
  // Killed (SIGKILL) once the fine-tuned model exists: a rerun resumes there.
  auto killer = "bash -c '" + std::string(MEDFORGET_BIN) + " " + run + cfg.string() + " >/dev/null 2>&1 & pid=$!; " +
                "for i in $(seq 1 1200); do [ -f " + (out / "models/vanilla/manifest.json").string() +
                " ] && break; sleep 0.1; done; kill -9 $pid; wait $pid'";
  std::system(killer.c_str());
  ASSERT_TRUE(fs::exists(out / "models/vanilla/manifest.json"));
  ASSERT_FALSE(fs::exists(out / "report/manifest.json"));
  // --status reads where the killed run stands.
  auto st = test::run_cli(run + cfg.string() + " --status");
  ASSERT_EQ(st.exit_code, 0) << st.output;
  test::expect_contains(st.output, "  done     data ");
  test::expect_contains(st.output, "  done     finetune");  // killed before its time was recorded
  test::expect_contains(st.output, "  pending  report");
  EXPECT_EQ(count(st.output, "  done     "), 2u) << st.output;
  test::expect_contains(st.output, "2 of ");
  auto r = test::run_cli(run + cfg.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count(r.output, " cached\n"), 2u) << r.output;  // data, finetune
  EXPECT_EQ(read_json(out / ".stages/finetune.json")["state"], "done");  // even if killed before its ledger line
  test::expect_contains(r.output, "| CHIP");
  // Nothing changed: nothing runs.
  r = test::run_cli(run + cfg.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t n_stages = count(r.output, "[run] (");
  EXPECT_EQ(count(r.output, " cached\n"), n_stages) << r.output;
  EXPECT_EQ(count(r.output, " done in "), 0u) << r.output;
  // scripts/grid_records.sh keeps what the report needs: the same tables from the records alone.
  const auto recs = t / "records";
  ASSERT_EQ(test::run_command("bash " + std::string(MEDFORGET_SOURCE_DIR) + "/scripts/grid_records.sh " +
                              out.string() + " " + recs.string())
                .exit_code,
            0);
  EXPECT_FALSE(fs::exists(recs / "eval/vanilla-patient/forget.jsonl"));
  EXPECT_TRUE(fs::exists(recs / "stages/finetune.json"));
  r = test::run_cli("report --regime scratch --out " + (t / "rep").string() + " " + (recs / "eval").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream a(out / "report/table3.md"), b(t / "rep/table3.md");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(a), {}), std::string(std::istreambuf_iterator<char>(b), {}));
  // Without --config, --status reads the configuration the directory was run with.
  st = test::run_cli("run --status --out " + out.string());
  ASSERT_EQ(st.exit_code, 0) << st.output;
  test::expect_contains(st.output, (out / "run_config.json").string());
  EXPECT_EQ(count(st.output, "  done     "), n_stages) << st.output;
  test::expect_contains(st.output, "every stage done");
  // One unlearning option changed: --status names the three stages a run would redo
  // (and redoes nothing: the run below still recomputes exactly those).
  const auto cfg2 = write_config(t.path(), "0.2");
  st = test::run_cli(run + cfg2.string() + " --status");
  ASSERT_EQ(st.exit_code, 0) << st.output;
  EXPECT_EQ(count(st.output, "  stale    "), 3u) << st.output;
  test::expect_contains(st.output, "  stale    unlearn/chip-patient");
  test::expect_contains(st.output, "a report of the finished measurements: medforget report");
  test::expect_contains(st.output, (out / "eval/vanilla-patient").string());
  // One unlearning option changed: that unlearning, its evaluation and the report.
  r = test::run_cli(run + cfg2.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count(r.output, " done in "), 3u) << r.output;
  test::expect_contains(r.output, "unlearn/chip-patient             done in");
  test::expect_contains(r.output, "eval/chip-patient                done in");
  EXPECT_DOUBLE_EQ(read_json(out / "models/chip-patient/provenance.json")["params"]["k"].get<double>(), 0.2);
  EXPECT_EQ(read_json(out / "run_config.json")["methods"][0]["options"]["k"], 0.2);
}

// A grid whose machine is gone goes on elsewhere from its records and its
// fine-tuned model: finished work is not redone; a removed output is made again
// only when a stage that reads it has to run. Stage keys ignore the device.
TEST(RunCli, RestoredFromRecordsGoesOnWithoutRedoingFinishedWork) {
  test::TempDir t;
  const auto out = t / "run", recs = t / "records", out2 = t / "restored";
  const auto cfg = write_config(t.path(), "0.1");
  auto r = test::run_cli("run --out " + out.string() + " --config " + cfg.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Where a stage runs is not part of its key: the CPU run reads as done for a GPU one.
  auto st = test::run_cli("run --status --device cuda --out " + out.string());
  ASSERT_EQ(st.exit_code, 0) << st.output;
  test::expect_contains(st.output, "every stage done");
  const std::string scripts = std::string(MEDFORGET_SOURCE_DIR) + "/scripts/";
  ASSERT_EQ(test::run_command("bash " + scripts + "grid_records.sh " + out.string() + " " + recs.string() + " vanilla")
                .exit_code,
            0);
  // Records keep a model's digests, not its weights; the weights come from where they are kept.
  EXPECT_TRUE(fs::exists(recs / "models/vanilla/SHA256SUMS"));
  EXPECT_FALSE(fs::exists(recs / "models/vanilla/model.safetensors"));
  EXPECT_FALSE(fs::exists(recs / "models/chip-patient"));
  auto rs = test::run_command("bash " + scripts + "grid_restore.sh " + recs.string() + " " + out2.string() + " " +
                              (out / "models").string());
  ASSERT_EQ(rs.exit_code, 0) << rs.output;
  // The benchmark and the unlearned model were not kept: every stage that reads them is done.
  st = test::run_cli("run --status --out " + out2.string());
  ASSERT_EQ(st.exit_code, 0) << st.output;
  EXPECT_EQ(count(st.output, "  kept     "), 2u) << st.output;
  test::expect_contains(st.output, "  kept     data");
  test::expect_contains(st.output, "  kept     unlearn/chip-patient");
  test::expect_contains(st.output, "  done     finetune");
  // Without --config the restored directory goes on with its own run_config.json.
  r = test::run_cli("run --out " + out2.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, (out2 / "run_config.json").string());
  EXPECT_EQ(count(r.output, " done in "), 1u) << r.output;  // the report alone
  test::expect_contains(r.output, "report                           done in");
  EXPECT_EQ(count(r.output, "kept (output removed"), 2u) << r.output;
  std::ifstream a(out / "report/table3.md"), b(out2 / "report/table3.md");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(a), {}), std::string(std::istreambuf_iterator<char>(b), {}));
  // A measurement lost too: its model is made again, and first the benchmark it reads;
  // the rebuilt benchmark is the same, so the fine-tuned model and the other evaluation stand.
  fs::remove_all(out2 / "eval/chip-patient");
  fs::remove(out2 / ".stages/eval_chip-patient.json");
  st = test::run_cli("run --status --out " + out2.string());
  test::expect_contains(st.output, "made again first, for stages still to run: data, unlearn/chip-patient\n");
  r = test::run_cli("run --out " + out2.string() + " --config " + cfg.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "unlearn/chip-patient             runs again: 'eval/chip-patient' reads its output");
  test::expect_contains(r.output, "data                             runs again: 'eval/chip-patient' reads its output");
  EXPECT_EQ(count(r.output, "runs again"), 2u) << r.output;
  EXPECT_EQ(count(r.output, " done in "), 4u) << r.output;  // data, CHIP, its evaluation, the report
  test::expect_contains(r.output, "4 stages ran, 2 cached");
  test::expect_contains(r.output, "finetune                         cached");
  // Restoring over a run of another configuration is refused.
  fs::create_directories(t / "other");
  write_json(t / "other/run_config.json", Json{{"preset", "small"}});
  rs = test::run_command("bash " + scripts + "grid_restore.sh " + recs.string() + " " + (t / "other").string());
  EXPECT_NE(rs.exit_code, 0);
  test::expect_contains(rs.output, "another configuration");
}

// A kept input made again comes out different (a retrained model does): what was
// done on its old output runs again, so no result stands on an output that is gone.
TEST(RunCli, AnInputMadeAgainDifferentlyRedoesWhatWasDoneOnIt) {
  test::TempDir t;
  const auto out = t / "run";
  const auto cfg = write_config(t.path(), "0.1");
  auto r = test::run_cli("run --out " + out.string() + " --config " + cfg.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The benchmark's output is gone and its ledger names another digest, under which
  // every stage that reads it counts as done (as if it had been built differently).
  const std::string fake(64, 'f');
  const auto stages = plan_stages(load_config(default_run_config("small"), cfg));
  std::map<std::string, std::string> digest_of;
  for (const auto& s : stages) {
    const auto ledger = out / ".stages" / (flat_name(s.name) + ".json");
    Json e = read_json(ledger);
    e["key"] = stage_key(s, digest_of);
    if (s.name == "data") e["digest"] = fake;
    write_json(ledger, e);
    digest_of[s.name] = e["digest"].get<std::string>();
  }
  fs::remove_all(out / "bench");
  auto st = test::run_cli("run --status --out " + out.string());
  test::expect_contains(st.output, "  kept     data");
  EXPECT_EQ(count(st.output, "  done     "), stages.size() - 1) << st.output;
  // CHIP's evaluation must run: the benchmark is made again, comes out with its real
  // digest, and everything done on the fake one runs again.
  fs::remove_all(out / "eval/chip-patient");
  fs::remove(out / ".stages/eval_chip-patient.json");
  r = test::run_cli("run --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "data                             runs again: 'eval/chip-patient' reads its output");
  test::expect_contains(r.output, "finetune                         runs again: an input changed");
  test::expect_contains(r.output, "eval/vanilla-patient             runs again: an input changed");
  test::expect_contains(r.output, "unlearn/chip-patient             runs again: an input changed");
  EXPECT_EQ(count(r.output, " done in "), stages.size()) << r.output;
  st = test::run_cli("run --status --out " + out.string());
  test::expect_contains(st.output, "every stage done");
  EXPECT_NE(read_json(out / ".stages/data.json")["digest"], fake);
}

// A user's corpus runs through the whole pipeline: the preset is the largest it
// fills, the benchmark is built from it (its digest recorded), and a corpus changed
// afterwards makes the benchmark again instead of scoring the old one.
TEST(RunCli, RunsTheWholePipelineOnAUsersCorpus) {
  test::TempDir t;
  const auto corpus = t / "corpus", out = t / "run";
  ASSERT_EQ(test::run_cli("data synth --preset tiny --seed 5 --out " + corpus.string()).exit_code, 0);
  Json cfg = read_json(write_config(t.path(), "0.1"));
  cfg.erase("preset");  // chosen to fit the corpus
  cfg["model_preset"] = "tiny";
  write_json(t / "cfg.json", cfg);
  const std::string run = "run --corpus " + corpus.string() + " --config " + (t / "cfg.json").string() + " --out " +
                          out.string();
  auto r = test::run_cli(run + " --dry-run");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "fills the 'tiny' benchmark");
  test::expect_contains(r.output, "data build --corpus " + corpus.string() + " --corpus-digest ");
  r = test::run_cli(run);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "| Vanilla");
  const Json bm = read_json(out / "bench/manifest.json");
  EXPECT_EQ(bm["inputs"]["corpus_digest"], read_json(corpus / "manifest.json")["content_digest"]);
  EXPECT_EQ(read_json(out / "run_config.json")["corpus"], fs::absolute(corpus).lexically_normal().string());
  // The same command again: nothing to do.
  r = test::run_cli(run);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count(r.output, " done in "), 0u) << r.output;
  // A preset the corpus cannot fill, and a directory that is not a corpus, fail before any work.
  r = test::run_cli("run --corpus " + corpus.string() + " --preset paper --dry-run --out " + (t / "r2").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "cannot fill the 'paper' benchmark");
  r = test::run_cli("run --corpus " + (t / "nothing").string() + " --dry-run --out " + (t / "r3").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "corpus.json: missing");
  EXPECT_FALSE(fs::exists(t / "r2"));
  EXPECT_FALSE(fs::exists(t / "r3"));
  // The corpus regenerated with another seed: its digest changes, so the benchmark is made again.
  ASSERT_EQ(test::run_cli("data synth --preset tiny --seed 6 --out " + corpus.string()).exit_code, 0);
  r = test::run_cli(run + " --dry-run");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_cli("run --status --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_cli(run + " --only data");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_json(out / "bench/manifest.json")["inputs"]["corpus_digest"],
            read_json(corpus / "manifest.json")["content_digest"]);
}
