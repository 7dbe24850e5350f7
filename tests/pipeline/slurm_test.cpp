// `run|grid --executor slurm`: the job scripts and the refusals without a
// cluster, then the real thing: a single-node Slurm cluster started by the test
// on this machine (scripts/slurm_local.sh), a grid run to completion on it and
// compared with the local executor's, failures, kills, locks and refusals.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "core/fs.hpp"
#include "core/json.hpp"
#include "pipeline/slurm.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

// A small grid at `tiny` scale: every stage kind (data, fine-tuning, unlearning,
// evaluation, attack, MIA, report), 13 stages.
Json small_grid() {
  return {{"levels", {"patient"}},
          {"methods", Json::array({{{"method", "chip"}, {"options", {{"k", 0.1}}}}, "graddiff"})},
          {"attack", true},
          {"mia", true},
          {"finetune", {{"epochs", 4}}},
          {"eval_limit", 6}};
}

std::string grid_cmd(const fs::path& config, const fs::path& out) {
  return "grid --preset tiny --config " + config.string() + " --out " + out.string();
}

// The results of a run, path-free: tables, per-item measurements, weights. (The
// manifests and provenance name the run directory, so their digests differ
// between two directories holding the same results.)
std::map<std::string, std::string> results_of(const fs::path& out) {
  std::map<std::string, std::string> m;
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() && (ext == ".md" || ext == ".csv" || ext == ".jsonl" || ext == ".safetensors" || ext == ".svg"))
      m[fs::relative(e.path(), out).string()] = read_text(e.path());
  }
  return m;
}

}  // namespace

// ---- without a cluster ------------------------------------------------------

TEST(SlurmCli, OptionsAreCheckedBeforeAnythingIsSubmitted) {
  test::TempDir t;
  const std::string out = " --out " + (t / "g").string();
  for (const auto& [args, msg] : std::vector<std::pair<std::string, std::string>>{
           {"grid --preset tiny --partition gpu", "--partition applies to --executor slurm"},
           {"grid --preset tiny --wait", "--wait applies to --executor slurm"},
           {"grid --preset tiny --executor slurm --jobs 2", "--jobs applies to the local executor"},
           {"grid --preset tiny --executor slurm --gpus-per-stage 1", "give --device cuda too"},
           {"grid --preset tiny --executor slurm --device cuda", "needs --gpus-per-stage 1"},
           {"grid --preset tiny --executor slurm --device cuda:1 --gpus-per-stage 1", "give --device cuda (or cpu)"},
           {"grid --preset tiny --executor slurm --time-limit ward=1:00:00", "unknown stage kind 'ward'"},
           {"grid --preset tiny --executor slurm --mem-per-stage '16G;rm'", "without spaces or quotes"},
           {"grid --preset tiny --executor pbs", "pbs"},
           {"grid --stage-job finetune", "holds no run"}}) {
    auto r = test::run_cli(args + out);
    EXPECT_NE(r.exit_code, 0) << args;
    test::expect_contains(r.output, msg);
    EXPECT_FALSE(fs::exists(t / "g")) << args;
  }
  // No Slurm on this machine's PATH: said so, nothing submitted.
  auto r = test::run_command("env PATH=/nonexistent " + std::string(MEDFORGET_BIN) +
                             " grid --preset tiny --executor slurm" + out);
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "sbatch is not installed here");
  EXPECT_FALSE(fs::exists(t / "g" / ".slurm" / "jobs.json"));
}

// --dry-run prints each job's script: resources by stage kind, GPUs only for the
// stages that run a model, the dependencies on the stages each one reads.
TEST(SlurmCli, DryRunPrintsTheJobScriptsWithResourcesByStageKind) {
  test::TempDir t;
  auto r = test::run_cli("grid --preset tiny --executor slurm --dry-run --device cuda --gpus-per-stage 2 "
                         "--cpus-per-stage 6 --partition gpu --account lab --time-limit finetune=12:00:00,1:00:00 "
                         "--mem-per-stage 8G,finetune=64G --sbatch-arg=--qos=high --out " + (t / "g").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(t / "g"));
  // One script per stage of the plan.
  EXPECT_EQ(count(r.output, "#!/bin/bash"), 231u);
  test::expect_contains(r.output, "# 231 of 231 stages to submit");
  auto script_of = [&](const std::string& flat) {  // from its "# ---- sbatch ... SCRIPT" line to the next
    const size_t at = r.output.find("/.slurm/scripts/" + flat + ".sh\n");
    if (at == std::string::npos) {
      ADD_FAILURE() << "no script for " << flat;
      return std::string();
    }
    const size_t b = r.output.rfind("# ---- sbatch", at), e = r.output.find("# ---- sbatch", at);
    return r.output.substr(b, e == std::string::npos ? std::string::npos : e - b);
  };
  const std::string ft = script_of("finetune"), data = script_of("data"), ev = script_of("eval_chip-patient");
  for (const char* line : {"#SBATCH --gpus=2\n", "#SBATCH --cpus-per-task=6\n", "#SBATCH --time=12:00:00\n",
                           "#SBATCH --mem=64G\n", "#SBATCH --partition=gpu\n", "#SBATCH --account=lab\n",
                           "#SBATCH --qos=high\n", "#SBATCH --kill-on-invalid-dep=yes\n", "--dependency=afterok:<data>",
                           "'--stage-job' 'finetune'"})
    test::expect_contains(ft, line);
  for (const char* line : {"#SBATCH --cpus-per-task=1\n", "#SBATCH --time=1:00:00\n", "#SBATCH --mem=8G\n"})
    test::expect_contains(data, line);
  EXPECT_EQ(data.find("--gpus"), std::string::npos) << data;
  EXPECT_EQ(data.find("--dependency"), std::string::npos) << data;
  test::expect_contains(ev, "--dependency=afterok:<unlearn/chip-patient>:<data>");
  test::expect_contains(ev, "#SBATCH --gpus=2\n");
}

// ---- on a real cluster --------------------------------------------------------

class SlurmCluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir;
    const std::string script = std::string(MEDFORGET_SOURCE_DIR) + "/scripts/slurm_local.sh";
    auto r = test::run_command("bash " + script + " start " + (*dir_ / "cluster").string());
    if (r.exit_code == 2) {
      skip_ = "Slurm cannot run on this machine: " + r.output;
      return;
    }
    ASSERT_EQ(r.exit_code, 0) << "the test cluster failed to start:\n" << r.output;
    setenv("SLURM_CONF", (*dir_ / "cluster" / "slurm.conf").c_str(), 1);
    setenv("MEDFORGET_SLURM_POLL", "0.5", 1);
    started_ = true;
  }
  static void TearDownTestSuite() {
    if (started_)
      test::run_command("bash " + std::string(MEDFORGET_SOURCE_DIR) + "/scripts/slurm_local.sh stop " +
                        (*dir_ / "cluster").string());
    delete dir_;
    dir_ = nullptr;
    started_ = false;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(started_);
  }
  static std::string squeue_active() {
    return test::run_command("squeue -h -t pending,running -o '%i %j %T'").output;
  }

  static inline test::TempDir* dir_ = nullptr;
  static inline std::string skip_;
  static inline bool started_ = false;
};

TEST_F(SlurmCluster, GridRunsToCompletionAndItsResultsEqualTheLocalExecutors) {
  test::TempDir t;
  write_json(t / "grid.json", small_grid());
  const fs::path on_slurm = t / "slurm", local = t / "local";
  auto r = test::run_cli(grid_cmd(t / "grid.json", on_slurm) + " --executor slurm --cpus-per-stage 1 --wait");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "slurm: submitted 13 stages as jobs");
  test::expect_contains(r.output, "assumes the run directory");
  EXPECT_EQ(count(r.output, "[slurm] ("), 13u) << r.output;
  EXPECT_EQ(count(r.output, " done (job "), 13u) << r.output;
  test::expect_contains(r.output, "| CHIP");
  // Each stage ran in its own job, recorded in its ledger, and wrote its log where the local executor would.
  std::set<std::string> jobs;
  for (const auto& f : fs::directory_iterator(on_slurm / ".stages")) {
    const Json e = read_json(f.path());
    EXPECT_EQ(e["state"], "done") << f.path();
    ASSERT_TRUE(e.contains("slurm_job")) << f.path();
    jobs.insert(e["slurm_job"].get<std::string>());
  }
  EXPECT_EQ(jobs.size(), 13u);
  test::expect_contains(read_text(on_slurm / "logs" / "finetune.log"), "epoch");

  r = test::run_cli(grid_cmd(t / "grid.json", local));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto a = results_of(on_slurm), b = results_of(local);
  ASSERT_GT(a.size(), 20u);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [file, text] : a) {
    ASSERT_TRUE(b.count(file)) << file;
    EXPECT_TRUE(text == b.at(file)) << file << " differs between the Slurm and the local run";
  }
  // Submitting again submits nothing; the local executor finds it all done too.
  r = test::run_cli(grid_cmd(t / "grid.json", on_slurm) + " --executor slurm --wait");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "every stage is done; nothing submitted");
  test::expect_contains(r.output, "0 stages ran, 13 cached");
  r = test::run_cli(grid_cmd(t / "grid.json", on_slurm));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "0 stages ran, 13 cached");
}

// A stage that fails in its job: its dependants are cancelled by Slurm, --status
// says so with Slurm's words, and the same command after a fix submits only the
// stages that are not done.
TEST_F(SlurmCluster, AFailedJobCancelsItsDependantsAndAfterAFixOnlyWhatIsMissingIsSubmitted) {
  test::TempDir t;
  const fs::path out = t / "g", reference = t / "reference";
  // Passes the checks before submission (the reference is read by the stage), fails in its job.
  Json c = {{"levels", {"patient"}},
            {"methods", Json::array({{{"method", "chip"}, {"options", {{"k", 0.1}}}},
                                     {{"method", "npo"}, {"name", "npo_ref"}, {"options", {{"reference", reference.string()}}}}})},
            {"attack", false},
            {"mia", false},
            {"finetune", {{"epochs", 4}}},
            {"eval_limit", 6}};
  write_json(t / "c.json", c);
  const std::string cmd = grid_cmd(t / "c.json", out) + " --executor slurm --cpus-per-stage 1 --wait";
  auto r = test::run_cli(cmd);
  ASSERT_NE(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "slurm: submitted 8 stages");
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(unlearn/npo_ref-patient +FAILED \(job \d+ FAILED)")))
      << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex(R"(eval/npo_ref-patient +FAILED \(job \d+ CANCELLED)")))
      << r.output;
  test::expect_contains(r.output, "CANCELLED (DependencyNeverSatisfied)");
  test::expect_contains(r.output, "stages failed on Slurm");
  EXPECT_FALSE(fs::exists(out / "report/manifest.json"));
  EXPECT_EQ(squeue_active(), "");

  auto st = test::run_cli("grid --out " + out.string() + " --status");
  ASSERT_EQ(st.exit_code, 0) << st.output;
  test::expect_contains(st.output, "  failed   unlearn/npo_ref-patient  (Slurm job ");
  test::expect_contains(st.output, "FAILED (NonZeroExitCode)");
  test::expect_contains(st.output, "  failed   eval/npo_ref-patient  (Slurm job ");
  test::expect_contains(st.output, "CANCELLED (DependencyNeverSatisfied)");
  test::expect_contains(st.output, "  done     unlearn/chip-patient");
  test::expect_contains(st.output, "5 of 8 stages done");

  // The fix: the reference model exists. The same command submits the three stages not done.
  fs::copy(out / "models" / "vanilla", reference, fs::copy_options::recursive);
  r = test::run_cli(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "slurm: submitted 3 stages");
  test::expect_contains(r.output, "(5 done already)");
  test::expect_contains(r.output, "| npo_ref");
  EXPECT_EQ(count(r.output, "[slurm] ("), 3u) << r.output;
}

// A job Slurm kills (scancel here; a time limit or a preemption ends the same
// way): while jobs are queued the run directory is in use; after the kill the
// stage is failed with Slurm's reason and the next submission submits it again.
TEST_F(SlurmCluster, AKilledJobIsFailedWithSlurmsReasonAndSubmittedAgain) {
  test::TempDir t;
  Json c = small_grid();
  c["attack"] = c["mia"] = false;     // 8 stages
  c["finetune"] = {{"epochs", 400}};  // long enough to be killed while it runs
  write_json(t / "c.json", c);
  const fs::path out = t / "g";
  const std::string cmd = grid_cmd(t / "c.json", out) + " --executor slurm --cpus-per-stage 1";
  auto r = test::run_cli(cmd);  // without --wait: submits and returns
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "submitted 8 jobs; where they stand: medforget grid --out");
  // In use: neither a second submission nor a local run may touch it.
  for (const std::string& again : {cmd, grid_cmd(t / "c.json", out)}) {
    auto busy = test::run_cli(again);
    EXPECT_NE(busy.exit_code, 0) << busy.output;
    test::expect_contains(busy.output, "is in use by 8 Slurm jobs of an earlier submission");
    test::expect_contains(busy.output, "scancel ");
  }
  const Json jobs = read_json(out / ".slurm" / "jobs.json")["jobs"];
  const std::string ft = std::to_string(jobs["finetune"].get<int64_t>());
  // Kill the fine-tuning once it is running.
  std::string state;
  for (int i = 0; i < 600 && state != "RUNNING"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    state = test::run_command("squeue -h -j " + ft + " -o %T").output;
    while (!state.empty() && state.back() == '\n') state.pop_back();
  }
  ASSERT_EQ(state, "RUNNING");
  auto st = test::run_cli("grid --out " + out.string() + " --status");
  test::expect_contains(st.output, "[Slurm: job " + ft + " RUNNING]");
  test::expect_contains(st.output, "(Dependency)]");
  ASSERT_EQ(test::run_command("scancel " + ft).exit_code, 0);
  for (int i = 0; i < 300 && !squeue_active().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(squeue_active(), "");
  st = test::run_cli("grid --out " + out.string() + " --status");
  test::expect_contains(st.output, "  failed   finetune  (Slurm job " + ft + " CANCELLED");
  test::expect_contains(st.output, "1 of 8 stages done");  // the data build; nothing after the fine-tuning

  // Submitted again: everything but the data build, shorter this time.
  c["finetune"] = {{"epochs", 4}};
  write_json(t / "c.json", c);
  r = test::run_cli(cmd + " --wait");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "slurm: submitted 7 stages");
  test::expect_contains(r.output, "(1 done already)");
}

// sbatch's refusal is reported and nothing stays queued: not the jobs submitted
// before the refused one either.
TEST_F(SlurmCluster, ARefusedSubmissionLeavesNothingQueued) {
  test::TempDir t;
  write_json(t / "grid.json", small_grid());
  const fs::path out = t / "g";
  auto r = test::run_cli(grid_cmd(t / "grid.json", out) + " --executor slurm --partition nosuchpartition");
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "sbatch refused stage 'data'");
  test::expect_contains(r.output, "invalid partition");
  test::expect_contains(r.output, "nothing was submitted");
  EXPECT_FALSE(fs::exists(out / ".slurm" / "jobs.json"));
  // The fine-tuning asks for more CPUs than the partition allows (the cluster enforces its limits at
  // submission): refused second, after the data build's job was submitted held.
  r = test::run_cli(grid_cmd(t / "grid.json", out) + " --executor slurm --cpus-per-stage 64");
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "sbatch refused stage 'finetune'");
  test::expect_contains(r.output, "More processors requested than permitted");
  test::expect_contains(r.output, "the 1 held job submitted before it was cancelled");
  EXPECT_FALSE(fs::exists(out / ".slurm" / "jobs.json"));
  EXPECT_EQ(squeue_active(), "");
  EXPECT_FALSE(fs::exists(out / "bench"));  // no job ran
}
