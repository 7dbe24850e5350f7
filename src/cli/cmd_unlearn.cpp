// `medforget unlearn`: execute a deletion request (a level's forget split or
// named nodes) with one method; `medforget unlearn --list` shows the methods
// and their options.
#include <cstdio>
#include <sstream>

#include "cli/commands.hpp"
#include "core/ids.hpp"
#include "core/output.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "unlearn/method.hpp"
#include "model/model_io.hpp"
#include "unlearn/unlearn.hpp"

namespace medforget::cli {

namespace {

void print_methods() {
  for (const auto& info : method_registry()) {
    auto m = info.make();
    std::printf("%s: %s\n", m->name().c_str(), m->summary().c_str());
    for (const auto& o : m->options())
      std::printf("    %-20s %-12s %s\n", o.name.c_str(), o.default_value.dump().c_str(), o.help.c_str());
  }
}

}  // namespace

void register_unlearn(CLI::App& app) {
  static UnlearnJob job;
  static std::string model, bench, out, dump, targets;
  static std::vector<std::string> opts;
  static bool list = false, force = false;
  auto* cmd = app.add_subcommand("unlearn", "Execute a deletion request on a checkpoint with an unlearning method");
  cmd->add_option("--model", model, "Checkpoint to unlearn from");
  cmd->add_option("--bench", bench, "Benchmark directory the request refers to");
  cmd->add_option("--level", job.level, "section | study | patient | institution");
  auto* targets_opt = cmd->add_option("--targets", targets, "Comma-separated node ids of that level (default: the level's forget split)");
  cmd->add_option("--method", job.method, "chip | graddiff | kl_min | manu | mip_editor | npo | retrain (see --list)");
  cmd->add_option("--name", job.name, "Variant name results are keyed by (default: the method; e.g. chip_no_siblings)");
  cmd->add_option("--opt", opts, "Method option key=value (repeatable; see --list)");
  cmd->add_option("--seed", job.seed, "Seed")->check(CLI::NonNegativeNumber);
  cmd->add_option("--device", job.device, "cpu | cuda | cuda:N");
  cmd->add_option("--dtype", job.dtype, "Compute dtype: bf16 | fp16 | fp32 (default: bf16 for a Hugging Face checkpoint on CUDA, else fp32)");
  cmd->add_option("--dump", dump, "Write the method's audit dump here (CHIP: neurons, directions, ranks, norms)");
  cmd->add_option("--out", out, "Output checkpoint directory (with provenance.json)");
  cmd->add_flag("--list", list, "List the methods and their options");
  cmd->add_flag("--force", force, "Replace a medforget directory of another kind at --out");
  cmd->callback([targets_opt] {
    if (list) return print_methods();
    for (auto [flag, v] : {std::pair<const char*, const std::string*>{"--model", &model}, {"--bench", &bench},
                           {"--level", &job.level}, {"--method", &job.method}, {"--out", &out}})
      if (v->empty()) fail(std::string("unlearn: ") + flag + " is required");
    OutputLock lock = claim_output(out, {"unlearn", "checkpoint", {model, bench, dump}, force});
    if (!dump.empty()) check_not_an_input(dump, {model, bench}, "unlearn: --dump " + dump + ": ");
    if (!job.name.empty()) check_path_id(job.name, "variant", "unlearn: --name");
    dtype_option(job.dtype);  // refused before any work
    job.model = model;
    job.bench = bench;
    job.out = out;
    job.dump = dump;
    job.targets = split_list(targets);
    // An empty list must not fall back to the level's default split: that would forget other people.
    if (targets_opt->count() && job.targets.empty())
      fail("unlearn: --targets '" + targets + "' names no node; give node ids, or leave --targets out for the "
           "level's forget split");
    for (const auto& t : job.targets) check_relative_path(t, "unlearn: --targets");
    job.params = resolve_method_params(*make_method(job.method), opts);
    Json prov = run_unlearn(job);
    std::printf("%s unlearned at the %s level in %.1f s: %zu target(s), %lld forget / %lld retain items -> %s\n",
                job.method.c_str(), job.level.c_str(), prov.at("wall_seconds").get<double>(),
                prov.at("request").at("targets").size(), prov.at("request").at("n_forget").get<long long>(),
                prov.at("request").at("n_retain").get<long long>(), out.c_str());
  });
}

}  // namespace medforget::cli
