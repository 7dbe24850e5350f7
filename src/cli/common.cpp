#include "cli/common.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/progress.hpp"

namespace medforget::cli {

std::optional<Judge> judge_for_cli() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::filesystem::path cache = xdg && *xdg ? std::filesystem::path(xdg) / "medforget/judge"
                                : home && *home ? std::filesystem::path(home) / ".cache/medforget/judge"
                                                : std::filesystem::path(".medforget-judge-cache");
  auto j = judge_from_env(cache);
  if (j) log_info("factuality: LLM judge " + j->config().model + " at " + j->config().url + " (cache " +
                  j->config().cache_dir.string() + ")");
  return j;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ','))
    if (!x.empty()) out.push_back(x);
  return out;
}

void add_train_options(CLI::App* cmd, TrainOptions& t) {
  cmd->add_option("--epochs", t.epochs, "Epochs (default per preset)");
  cmd->add_option("--lr", t.lr, "Peak learning rate (default per preset)");
  cmd->add_option("--batch-size", t.batch_size, "Batch size (default per preset)");
  cmd->add_option("--weight-decay", t.weight_decay, "AdamW weight decay");
  cmd->add_option("--warmup", t.warmup, "Warmup as a fraction of all steps");
  cmd->add_option("--grad-clip", t.grad_clip, "Gradient norm clip");
  cmd->add_option("--checkpoint-every", t.checkpoint_every, "Steps between resumable snapshots");
}

Json train_result_json(const TrainResult& r, int64_t n_params) {
  return {{"steps", r.steps},       {"last_loss", r.last_loss},
          {"mean_last_epoch_loss", r.mean_last_epoch_loss},
          {"seconds", r.seconds},   {"tokens_per_second", r.tokens_per_second},
          {"parameters", n_params}};
}

bool stopped_early(const TrainResult& r) {
  if (r.finished) return false;
  std::printf("stopped after step %lld of %lld; run the same command again to resume\n",
              static_cast<long long>(r.steps), static_cast<long long>(r.total_steps));
  return true;
}

void record_or_check_options(const std::filesystem::path& partial, const Json& options) {
  if (!std::filesystem::exists(partial / "options.json")) {
    write_json(partial / "options.json", options);
    return;
  }
  const Json was = read_json(partial / "options.json");
  if (was == options) return;
  std::string diff;
  for (const auto& [k, v] : options.items())
    if (!was.contains(k) || was.at(k) != v)
      diff += (diff.empty() ? "" : ", ") + k + " " + (was.contains(k) ? was.at(k).dump() : "(none)") + " -> " + v.dump();
  fail(partial.string() + ": an interrupted run with different options is there (" + diff +
       "); run the command as it was to resume, or delete the directory to start over");
}

}  // namespace medforget::cli
