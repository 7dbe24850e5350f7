#include "cli/common.hpp"

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
