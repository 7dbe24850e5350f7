// `medforget run` (the main job) and `medforget grid` (the paper's
// experiments): plan the stages of a configuration, run them with caching and
// resume, print the results tables.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/progress.hpp"
#include "model/model_io.hpp"
#include "pipeline/pipeline.hpp"
#include "unlearn/method.hpp"

namespace medforget::cli {

namespace {

struct RunArgs {
  std::string preset, out, config, device;
  bool dry_run = false;
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

void execute(const RunArgs& a, bool grid) {
  std::string preset = a.preset.empty() ? (grid ? "paper" : "small") : a.preset;
  RunConfig c = grid ? default_grid_config(preset) : default_run_config(preset);
  if (!a.config.empty()) c = load_config(c, a.config);
  if (!a.device.empty()) c.device = a.device;
  validate_everything(c);  // before any work
  std::filesystem::path out =
      a.out.empty() ? std::filesystem::path("out") / ((grid ? "grid-" : "") + c.preset) : std::filesystem::path(a.out);
  auto stages = plan_stages(c);
  if (a.dry_run) {
    for (const auto& s : stages) {
      std::printf("%-36s medforget", s.name.c_str());
      for (const auto& x : s.args) std::printf(" %s", x.c_str());
      std::printf("\n");
    }
    return;
  }
  std::filesystem::create_directories(out);
  write_json(out / "run_config.json", c.to_json());
  log_info(std::string(grid ? "grid" : "run") + ": " + std::to_string(stages.size()) + " stages into " +
           out.string() + " (configuration in run_config.json)");
  PipelineResult r = run_pipeline(stages, out);
  std::printf("%s\n%s\n", read_all(out / "report/table3.md").c_str(), read_all(out / "report/fr_diff.md").c_str());
  if (std::filesystem::exists(out / "report/attack.md")) std::printf("%s\n", read_all(out / "report/attack.md").c_str());
  std::printf("%zu stages ran, %zu cached, in %.1f s; report: %s\n", r.ran, r.cached, r.seconds,
              (out / "report/report.html").string().c_str());
}

void add_common(CLI::App* cmd, RunArgs& a, const char* preset_help) {
  cmd->add_option("--preset", a.preset, preset_help);
  cmd->add_option("--out", a.out, "Run directory (default out/<preset>)");
  cmd->add_option("--config", a.config, "JSON run configuration overriding the defaults (docs/RUN.md)");
  cmd->add_option("--device", a.device, "cpu | cuda | cuda:N");
  cmd->add_flag("--dry-run", a.dry_run, "Print the stages and their commands without running them");
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
