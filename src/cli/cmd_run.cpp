// `medforget run` (the main job) and `medforget grid` (the paper's
// experiments): plan the stages of a configuration, run them with caching and
// resume, print the results tables.
#include <algorithm>
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
#include "pipeline/stage_files.hpp"
#include "unlearn/method.hpp"

namespace medforget::cli {

namespace {

struct RunArgs {
  std::string preset, out, config, device, corpus;
  std::vector<std::string> only, redo;  // --only, --redo globs
  bool dry_run = false, status = false;
  int jobs = 1;
};

void validate_everything(const RunConfig& c) {
  validate_config(c, method_names());
  parse_device(c.device);  // a bad or absent GPU fails now, not at the first stage that trains
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
  for (size_t i = 0; i < stages.size(); ++i) {
    const auto& x = st[i];
    ++n[x.state];
    std::printf("  %-8s %s", state_name(x.state), stages[i].name.c_str());
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
  std::printf("%zu of %zu stages done (%s of stage time, peak RSS %.0f MiB), %zu started, %zu stale, %zu pending\n", done,
              stages.size(), format_duration(secs).c_str(), peak, n[StageStatus::Started], n[StageStatus::Stale],
              n[StageStatus::Pending]);
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

void execute(const RunArgs& a, bool grid) {
  check_option(grid ? "grid" : "run", "jobs", a.jobs);
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
  if (a.status) {
    validate_config(c, method_names());  // not the device: a GPU run's status can be read anywhere
    print_status(plan_stages(c), out, config_src);
    return;
  }
  validate_everything(c);  // before any work
  plan_corpus(c);
  auto stages = plan_stages(c);
  const size_t planned = stages.size();
  if (!a.only.empty()) stages = select_stages(stages, a.only);
  const std::vector<bool> redo =
      a.redo.empty() ? std::vector<bool>(stages.size(), false)
                     : match_stages(stages, a.redo, "--redo", a.only.empty() ? "of this plan" : "that --only selected");
  if (a.dry_run) {
    for (size_t i = 0; i < stages.size(); ++i) {
      const Stage& s = stages[i];
      std::printf("%-36s %s medforget", s.name.c_str(), redo[i] ? "(redo)" : "      ");
      for (const auto& x : s.args) std::printf(" %s", x.c_str());
      std::printf("\n");
    }
    return;
  }
  // One process per run directory: a second `run`/`grid` on it (or --redo while it runs) fails here.
  OutputLock lock = claim_output(out, {grid ? "grid" : "run", "run", {a.config, c.corpus}});
  std::filesystem::create_directories(out);
  for (size_t i = 0; i < stages.size(); ++i)
    if (redo[i]) {
      clear_stage(out, stages[i]);
      log_info("--redo: " + stages[i].name + " runs again (its output and ledger entry removed)");
    }
  write_json(out / "run_config.json", c.to_json());
  log_info(std::string(grid ? "grid" : "run") + ": " + std::to_string(stages.size()) + " stages" +
           (stages.size() < planned ? " of " + std::to_string(planned) + " (--only)" : "") + " into " +
           out.string() + " (configuration: " + config_src + "; as run: run_config.json)" +
           (a.jobs > 1 ? ", " + std::to_string(a.jobs) + " at a time" : ""));
  PipelineResult r = run_pipeline(stages, out, a.jobs);
  // Selecting the report selects every stage, so a run without it is a partial (--only) one.
  if (stages.back().name != "report") {
    std::printf("%zu stages ran, %zu cached, in %.1f s; %zu of the %zu planned stages were not selected (--only). "
                "Where the run stands: medforget %s --out %s --status\n",
                r.ran, r.cached, r.seconds, planned - stages.size(), planned, grid ? "grid" : "run",
                out.string().c_str());
    return;
  }
  std::printf("%s\n%s\n", read_all(out / "report/table3.md").c_str(), read_all(out / "report/fr_diff.md").c_str());
  if (std::filesystem::exists(out / "report/attack.md")) std::printf("%s\n", read_all(out / "report/attack.md").c_str());
  std::printf("%zu stages ran, %zu cached, in %.1f s; report: %s\n", r.ran, r.cached, r.seconds,
              (out / "report/report.html").string().c_str());
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
