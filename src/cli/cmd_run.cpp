// `medforget run` (the main job) and `medforget grid` (the paper's
// experiments): plan the stages of a configuration, run them with caching and
// resume, print the results tables.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/commands.hpp"
#include "core/output.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/progress.hpp"
#include "core/ranges.hpp"
#include "core/json.hpp"
#include "data/select.hpp"
#include "data/preset.hpp"
#include "data/corpus.hpp"
#include "model/model_io.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/slurm.hpp"
#include "pipeline/stage_files.hpp"
#include "unlearn/method.hpp"

namespace medforget::cli {

namespace {

struct RunArgs {
  std::string preset, out, config, device, corpus;
  std::vector<std::string> only, redo;  // --only, --redo globs
  bool dry_run = false, status = false;
  int jobs = 1;
  // --executor slurm
  std::string executor = "local", partition, account, stage_job;
  int gpus = 0, cpus = 0;
  std::vector<std::string> time_limit, mem, sbatch_args;
  bool wait = false;
};

// The device of a run whose stages run elsewhere (Slurm jobs): checked for form
// and against the GPUs asked for, not against this machine's devices.
void check_slurm_device(const RunConfig& c, int gpus) {
  if (c.device == "cpu") {
    if (gpus > 0)
      fail("--gpus-per-stage " + std::to_string(gpus) + " asks Slurm for GPUs, but the stages run on the CPU; give "
           "--device cuda too");
    return;
  }
  if (c.device != "cuda")
    fail("--device " + c.device + " with --executor slurm: a job sees the GPUs Slurm gives it from cuda:0 on; give "
         "--device cuda (or cpu)");
  if (gpus < 1) fail("--device cuda with --executor slurm needs --gpus-per-stage 1 (or more): Slurm gives a job no GPU unasked");
}

void validate_everything(const RunConfig& c, bool slurm = false, int gpus = 0) {
  validate_config(c, method_names());
  if (slurm) check_slurm_device(c, gpus);
  else parse_device(c.device);  // a bad or absent GPU fails now, not at the first stage that trains
  for (const auto& v : c.variants) {
    auto m = make_method(v.method);
    Json opts = v.options;
    if (v.method == "npo" && opts.contains("reference") && opts["reference"].is_string()) opts.erase("reference");
    Json p = resolve_method_params(*m, opts);
    m->check(p);
  }
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Prints where each stage of `out` stands, the time the rest should take at the
// pace so far, and how to build a report of what is finished.
void print_status(const std::vector<Stage>& stages, const std::filesystem::path& out, const std::string& config_src) {
  const auto st = pipeline_status(stages, out);
  // The report stage reads exactly the measurements (plan_stages): a report so far reads the finished ones.
  std::set<std::string> measured;
  for (const auto& s : stages)
    if (s.name == "report") measured.insert(s.deps.begin(), s.deps.end());
  std::printf("status of %s (configuration: %s)%s\n", out.string().c_str(), config_src.c_str(),
              std::filesystem::exists(out) ? "" : "; no run there yet");
  // A kept stage that a stage still to run reads is made again first: part of the time left.
  std::set<std::string> to_remake;
  for (size_t i = 0; i < stages.size(); ++i)
    if (st[i].state != StageStatus::Done && st[i].state != StageStatus::Kept)
      for (const auto& d : stages[i].deps) to_remake.insert(d);
  std::string remade;
  size_t n[5] = {0, 0, 0, 0, 0};
  double secs = 0, timed_w = 0, rest_w = 0, peak = 0;
  size_t timed = 0;
  std::string done_dirs;
  const auto jobs = submitted_job_states(out);  // the last Slurm submission's, when there was one
  size_t failed = 0;
  for (size_t i = 0; i < stages.size(); ++i) {
    const auto& x = st[i];
    ++n[x.state];
    std::string failure = x.failure;
    const bool finished = x.state == StageStatus::Done || x.state == StageStatus::Kept;
    const auto job = jobs.find(stages[i].name);
    const bool ended = job != jobs.end() && !job->second.slurm.active();
    // A job that ended without finishing its stage (killed, cancelled, never started): failed, in Slurm's words.
    if (!finished && ended && job->second.slurm.state != "COMPLETED") failure = "Slurm " + job->second.describe();
    if (job != jobs.end() && job->second.slurm.active()) failure.clear();  // submitted again since it failed
    failed += !failure.empty();
    std::printf("  %-8s %s", failure.empty() ? state_name(x.state) : "failed", stages[i].name.c_str());
    if (!failure.empty()) std::printf("  (%s; log %s)", failure.c_str(), log_path(out, stages[i]).string().c_str());
    else if (!finished && job != jobs.end()) std::printf("  [Slurm: %s]", job->second.describe().c_str());
    if ((x.state == StageStatus::Done || x.state == StageStatus::Kept) && x.seconds > 0) {
      std::printf("%*s %9s %6.0f MiB", static_cast<int>(36 - std::min<size_t>(36, stages[i].name.size())), "",
                  format_duration(x.seconds).c_str(), x.peak_rss_mib);
      secs += x.seconds;
      timed_w += stages[i].weight;
      ++timed;
      peak = std::max(peak, x.peak_rss_mib);
    }
    std::printf("\n");
    if (x.state != StageStatus::Done && x.state != StageStatus::Kept) rest_w += stages[i].weight;
    if (x.state == StageStatus::Kept && to_remake.count(stages[i].name)) {
      rest_w += stages[i].weight;
      remade += (remade.empty() ? "" : ", ") + stages[i].name;
    }
    if (x.state == StageStatus::Done && measured.count(stages[i].name)) done_dirs += " " + (out / stages[i].dir).string();
  }
  const size_t done = n[StageStatus::Done] + n[StageStatus::Kept];
  std::printf("%zu of %zu stages done (%s of stage time, peak RSS %.0f MiB), %zu started, %zu stale, %zu pending%s\n",
              done, stages.size(), format_duration(secs).c_str(), peak, n[StageStatus::Started], n[StageStatus::Stale],
              n[StageStatus::Pending], failed ? (" (" + std::to_string(failed) + " of them failed last time)").c_str() : "");
  if (n[StageStatus::Kept] > 0)
    std::printf("%zu of the done stages are kept: their output was removed (a run restored from records); a stage "
                "that reads one and has to run makes it again first\n",
                n[StageStatus::Kept]);
  if (!remade.empty()) std::printf("made again first, for stages still to run: %s\n", remade.c_str());
  if (done == stages.size()) {
    std::printf("every stage done; report: %s\n", (out / "report/report.html").string().c_str());
    return;
  }
  if (timed >= 3)  // one or two stages (the data build alone) say little about the rest
    std::printf("the rest, at the pace of the finished stages: about %s (rough: stages are weighted by expected cost)\n",
                format_duration(secs / timed_w * rest_w).c_str());
  if (!done_dirs.empty())
    std::printf("a report of the finished measurements: medforget report --out %s%s\n",
                (out / "report-so-far").string().c_str(), done_dirs.c_str());
}

// The largest benchmark preset (paper, small, tiny) the corpus can fill; an
// error naming what it lacks when it cannot fill even the smallest.
std::string preset_fitting(const std::string& dir, uint64_t seed) {
  const Corpus corpus = load_corpus(dir);
  std::string why;
  for (const char* p : {"paper", "small", "tiny"}) {
    try {
      select_benchmark(corpus, data_preset(p), seed);
      log_info("run: the corpus " + dir + " fills the '" + p + "' benchmark");
      return p;
    } catch (const Error& e) {
      why = e.what();
    }
  }
  fail("run --corpus " + dir + ": the corpus cannot fill even the 'tiny' benchmark: " + why);
}

// A run on a user's corpus: its digest (part of the data stage's key, so a changed
// corpus makes the benchmark and everything after it again) and a check that the
// chosen preset fits it, before any work.
void plan_corpus(RunConfig& c) {
  if (c.corpus.empty()) return;
  c.corpus_digest = corpus_digest(c.corpus);
  try {
    select_benchmark(load_corpus(c.corpus), data_preset(c.preset), c.seed);
  } catch (const Error& e) {
    fail("run: the corpus " + c.corpus + " cannot fill the '" + c.preset + "' benchmark: " + e.what());
  }
}

// The results tables of a finished run (or, for a partial --only run, where it stands).
void print_results(const std::filesystem::path& out, const std::vector<Stage>& stages, size_t planned,
                   const PipelineResult& r, const std::string& cmd) {
  // Selecting the report selects every stage, so a run without it is a partial (--only) one.
  if (stages.back().name != "report") {
    std::printf("%zu stages ran, %zu cached, in %.1f s; %zu of the %zu planned stages were not selected (--only). "
                "Where the run stands: medforget %s --out %s --status\n",
                r.ran, r.cached, r.seconds, planned - stages.size(), planned, cmd.c_str(), out.string().c_str());
    return;
  }
  std::printf("%s\n%s\n", read_all(out / "report/table3.md").c_str(), read_all(out / "report/fr_diff.md").c_str());
  if (std::filesystem::exists(out / "report/attack.md")) std::printf("%s\n", read_all(out / "report/attack.md").c_str());
  std::printf("%zu stages ran, %zu cached, in %.1f s; report: %s\n", r.ran, r.cached, r.seconds,
              (out / "report/report.html").string().c_str());
}

SlurmOptions slurm_options(const RunArgs& a) {
  SlurmOptions o;
  o.binary = std::filesystem::read_symlink("/proc/self/exe");
  o.workdir = std::filesystem::current_path();
  o.partition = a.partition;
  o.account = a.account;
  o.gpus_per_stage = a.gpus;
  o.cpus_per_stage = a.cpus;
  o.time_limit = parse_by_kind(a.time_limit, "--time-limit");
  o.mem = parse_by_kind(a.mem, "--mem-per-stage");
  o.extra = a.sbatch_args;
  if (const char* p = std::getenv("MEDFORGET_SLURM_POLL")) o.poll_seconds = std::max(0.2, std::atof(p));
  return o;
}

// Slurm's options apply to --executor slurm only; --jobs to the local executor only.
void check_executor_options(const RunArgs& a) {
  if (a.executor == "slurm") {
    if (a.jobs != 1) fail("--jobs applies to the local executor; on Slurm every stage is a job and the cluster runs "
                          "as many at once as it allows");
    if (a.gpus < 0) fail("--gpus-per-stage must be >= 0, got " + std::to_string(a.gpus));
    if (a.cpus < 0) fail("--cpus-per-stage must be >= 0, got " + std::to_string(a.cpus));
    return;
  }
  const std::pair<bool, const char*> slurm_only[] = {
      {!a.partition.empty(), "--partition"},  {!a.account.empty(), "--account"},
      {a.gpus != 0, "--gpus-per-stage"},      {a.cpus != 0, "--cpus-per-stage"},
      {!a.time_limit.empty(), "--time-limit"}, {!a.mem.empty(), "--mem-per-stage"},
      {!a.sbatch_args.empty(), "--sbatch-arg"}, {a.wait, "--wait"}};
  for (const auto& [given, name] : slurm_only)
    if (given) fail(std::string(name) + " applies to --executor slurm");
}

void execute(const RunArgs& a, bool grid) {
  check_option(grid ? "grid" : "run", "jobs", a.jobs);
  check_executor_options(a);
  std::string chosen = a.preset;
  if (!a.corpus.empty() && chosen.empty()) {
    const Json cfg = a.config.empty() || !std::filesystem::is_regular_file(a.config) ? Json::object() : read_json(a.config);
    const Json seed = cfg.value("seed", Json(1));  // a bad one is refused, naming the field, by apply_config
    if (!cfg.contains("preset"))
      chosen = preset_fitting(std::filesystem::absolute(a.corpus).lexically_normal().string(),
                              seed.is_number_unsigned() ? seed.get<uint64_t>() : 1);
  }
  std::string preset = chosen.empty() ? (grid ? "paper" : "small") : chosen;
  RunConfig c = grid ? default_grid_config(preset) : default_run_config(preset);
  std::filesystem::path out =
      a.out.empty() ? std::filesystem::path("out") / ((grid ? "grid-" : "") + preset) : std::filesystem::path(a.out);
  std::string config_src = "the defaults";
  if (!a.config.empty()) {
    c = load_config(c, a.config);
    config_src = a.config;
  } else if ((a.status || a.preset.empty()) && std::filesystem::exists(out / "run_config.json")) {
    // What the directory was last run with: a grid started with --config (or restored
    // from records) is checked and continued as started, not re-planned from defaults.
    c = load_config(c, out / "run_config.json");
    config_src = (out / "run_config.json").string();
  }
  if (!a.device.empty()) c.device = a.device;
  if (!a.corpus.empty()) c.corpus = std::filesystem::absolute(a.corpus).lexically_normal().string();
  if (a.out.empty()) out = std::filesystem::path("out") / ((grid ? "grid-" : "") + c.preset);
  const std::string cmd = grid ? "grid" : "run";
  if (!a.stage_job.empty()) {  // one Slurm job: the configuration is the one its submission recorded
    if (!std::filesystem::is_regular_file(out / "run_config.json"))
      fail(cmd + " --stage-job: " + out.string() + " holds no run (no run_config.json); stage jobs are what "
           "--executor slurm submits into a run directory it prepared");
    validate_everything(c);
    plan_corpus(c);
    run_stage_job(plan_stages(c), a.stage_job, out);
    return;
  }
  if (a.status) {
    validate_config(c, method_names());  // not the device: a GPU run's status can be read anywhere
    print_status(plan_stages(c), out, config_src);
    return;
  }
  const bool slurm = a.executor == "slurm";
  validate_everything(c, slurm, a.gpus);  // before any work
  plan_corpus(c);
  auto stages = plan_stages(c);
  const size_t planned = stages.size();
  if (!a.only.empty()) stages = select_stages(stages, a.only);
  const std::vector<bool> redo =
      a.redo.empty() ? std::vector<bool>(stages.size(), false)
                     : match_stages(stages, a.redo, "--redo", a.only.empty() ? "of this plan" : "that --only selected");
  const SlurmOptions so = slurm ? slurm_options(a) : SlurmOptions{};
  if (a.dry_run) {
    if (slurm) {
      const auto sub = submit_to_slurm(stages, out, so, cmd, true, nullptr);
      std::printf("# %zu of %zu stages to submit (the rest are done)\n", sub.stages.size(), stages.size());
      return;
    }
    for (size_t i = 0; i < stages.size(); ++i) {
      const Stage& s = stages[i];
      std::printf("%-36s %s medforget", s.name.c_str(), redo[i] ? "(redo)" : "      ");
      for (const auto& x : s.args) std::printf(" %s", x.c_str());
      std::printf("\n");
    }
    return;
  }
  // One process per run directory: a second `run`/`grid` on it (or --redo while it runs) fails here,
  // and so does one while the jobs of a Slurm submission into it are queued or running.
  OutputLock lock = claim_output(out, {cmd, "run", {a.config, c.corpus}});
  check_no_active_jobs(out, cmd);
  std::filesystem::create_directories(out);
  for (size_t i = 0; i < stages.size(); ++i)
    if (redo[i]) {
      clear_stage(out, stages[i]);
      log_info("--redo: " + stages[i].name + " runs again (its output and ledger entry removed)");
    }
  write_json(out / "run_config.json", c.to_json());
  log_info(cmd + ": " + std::to_string(stages.size()) + " stages" +
           (stages.size() < planned ? " of " + std::to_string(planned) + " (--only)" : "") + " into " +
           out.string() + " (configuration: " + config_src + "; as run: run_config.json)" +
           (slurm ? ", on Slurm" : a.jobs > 1 ? ", " + std::to_string(a.jobs) + " at a time" : ""));
  if (slurm) {
    for (const auto& note : shared_filesystem_notes(so, std::filesystem::absolute(out))) log_info("slurm: " + note);
    std::unique_ptr<SlurmExecutor> ex;
    const auto t0 = std::chrono::steady_clock::now();
    const SlurmSubmission sub = submit_to_slurm(stages, out, so, cmd, false, &ex);
    if (sub.jobs.empty()) {
      log_info("slurm: every stage is done; nothing submitted");
    } else {
      log_info("slurm: submitted " + std::to_string(sub.jobs.size()) + " stage" + (sub.jobs.size() == 1 ? "" : "s") +
               " as jobs " + std::to_string(sub.jobs.front()) + ".." + std::to_string(sub.jobs.back()) + " (" +
               std::to_string(stages.size() - sub.jobs.size()) + " done already); scripts in " +
               (out / ".slurm/scripts").string() + ", logs in " + (out / "logs").string());
      if (!a.wait) {
        std::printf("submitted %zu jobs; where they stand: medforget %s --out %s --status; once they are done, "
                    "the same command prints the results\n",
                    sub.jobs.size(), cmd.c_str(), out.string().c_str());
        return;
      }
      if (!wait_for_slurm(*ex, sub, out, stages))
        fail(cmd + ": stages failed on Slurm (medforget " + cmd + " --out " + out.string() +
             " --status names them, their reasons and logs); after a fix, the same command submits what is missing");
    }
    PipelineResult r;
    r.ran = sub.jobs.size();
    r.cached = stages.size() - r.ran;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    print_results(out, stages, planned, r, cmd);
    return;
  }
  print_results(out, stages, planned, run_pipeline(stages, out, a.jobs), cmd);
}

void add_common(CLI::App* cmd, RunArgs& a, const char* preset_help) {
  cmd->add_option("--preset", a.preset, preset_help);
  cmd->add_option("--out", a.out, "Run directory (default out/<preset>)");
  cmd->add_option("--config", a.config,
                  "JSON run configuration overriding the defaults (docs/RUN.md). Without it (and without --preset), "
                  "a directory that holds a run goes on with the configuration it was run with");
  cmd->add_option("--device", a.device, "cpu | cuda | cuda:N");
  cmd->add_option("--corpus", a.corpus,
                  "Build the benchmark from this corpus (an importer's or `data synth`'s output) instead of "
                  "synthesising one; without --preset, the largest preset it can fill");
  cmd->add_option("--jobs,-j", a.jobs,
                  "Stages run at once (default 1): a stage starts when the stages it reads are done; each shares "
                  "the cores (MEDFORGET_THREADS = cores / jobs unless set). On a GPU they share the device");
  auto* dry = cmd->add_flag("--dry-run", a.dry_run, "Print the stages and their commands without running them");
  auto* only = cmd->add_option("--only", a.only,
                               "Run only the stages whose names match these shell globs (comma-separated, e.g. "
                               "'unlearn/chip*,eval/chip*' or '*-patient') and the stages they read; the rest wait "
                               "for a later run. With --dry-run: which stages that is")
                   ->delimiter(',');
  auto* redo = cmd->add_option("--redo", a.redo,
                               "Make these stages again (shell globs, comma-separated): their outputs and ledger "
                               "entries are removed first; a stage that reads one runs again if it comes out "
                               "different. For stages finished by a build before a fix to their method (stage keys "
                               "cover inputs and options, not the build; docs/RUN.md)")
                   ->delimiter(',');
  cmd->add_option("--executor", a.executor,
                  "Where stages run: local (this machine, --jobs at a time; the default) or slurm (one batch job "
                  "per stage, each waiting for the stages it reads; docs/RUN.md)")
      ->check(CLI::IsMember({"local", "slurm"}));
  const char* g = "Slurm (--executor slurm)";
  cmd->add_option("--partition", a.partition, "Slurm partition for every job (default: the cluster's)")->group(g);
  cmd->add_option("--account", a.account, "Slurm account to charge (default: the user's)")->group(g);
  cmd->add_option("--gpus-per-stage", a.gpus,
                  "GPUs for each stage that runs a model (fine-tuning, unlearning, evaluation, attack, MIA; not the "
                  "data build or the report); needs --device cuda")
      ->group(g);
  cmd->add_option("--cpus-per-stage", a.cpus,
                  "CPUs for each stage that runs a model (default: up to 8, as a node of the partition has); the "
                  "data build and the report get 1")
      ->group(g);
  cmd->add_option("--time-limit", a.time_limit,
                  "sbatch --time for every job (2:00:00), or by stage kind (finetune=12:00:00,eval=30:00); kinds: "
                  "data, finetune, unlearn, eval, attack, mia, report")
      ->delimiter(',')
      ->group(g);
  cmd->add_option("--mem-per-stage", a.mem, "sbatch --mem for every job (16G), or by stage kind (finetune=64G)")
      ->delimiter(',')
      ->group(g);
  cmd->add_option("--sbatch-arg", a.sbatch_args,
                  "A further sbatch option for every job, repeatable (--sbatch-arg=--qos=high)")
      ->allow_extra_args(false)
      ->group(g);
  cmd->add_flag("--wait", a.wait,
                "Stay until the submitted jobs have ended, a line per stage, then print the results (or fail naming "
                "the failed stages)")
      ->group(g);
  cmd->add_option("--stage-job", a.stage_job,
                  "Run one stage of --out's plan on finished inputs: what each Slurm job runs")
      ->group("");
  cmd->add_flag("--status", a.status,
                "Print where each stage of --out stands (done, kept, started, stale, pending), the time left at the "
                "pace so far and a report command for the finished measurements; runs nothing")
      ->excludes(dry)
      ->excludes(only)
      ->excludes(redo);
}

}  // namespace

void register_run(CLI::App& app) {
  static RunArgs r, g;
  auto* run = app.add_subcommand("run", "The main job: corpus -> benchmark -> model -> unlearning -> evaluation -> report");
  add_common(run, r, "tiny | small | paper (default small)");
  run->callback([] { execute(r, false); });
  auto* grid = app.add_subcommand("grid", "The paper's experiment grid: every method at every level, MIA, ablations");
  add_common(grid, g, "tiny | small | paper (default paper)");
  grid->callback([] { execute(g, true); });
}

}  // namespace medforget::cli
