// --status: where each stage of a run directory stands, from its files alone.
#include "pipeline/pipeline.hpp"

#include <cstdio>
#include <map>
#include <set>

#include "pipeline/stage_files.hpp"

namespace medforget {

namespace fs = std::filesystem;

std::string format_duration(double secs) {
  char b[32];
  const int t = static_cast<int>(secs);
  if (secs < 60) std::snprintf(b, sizeof b, "%.1fs", secs);
  else if (t < 3600) std::snprintf(b, sizeof b, "%dm%02ds", t / 60, t % 60);
  else std::snprintf(b, sizeof b, "%dh%02dm", t / 3600, t / 60 % 60);
  return b;
}

const char* state_name(StageStatus::State s) {
  switch (s) {
    case StageStatus::Done: return "done";
    case StageStatus::Kept: return "kept";
    case StageStatus::Started: return "started";
    case StageStatus::Stale: return "stale";
    case StageStatus::Pending: return "pending";
  }
  return "?";
}

std::vector<StageStatus> pipeline_status(const std::vector<Stage>& stages, const fs::path& out) {
  std::set<std::string> read;  // stages some other stage reads
  for (const auto& s : stages) read.insert(s.deps.begin(), s.deps.end());
  std::map<std::string, std::string> digest_of;
  std::vector<StageStatus> st;
  for (const auto& s : stages) {
    StageStatus x;
    const std::string key = stage_key(s, digest_of);
    const StageOnDisk d = stage_on_disk(out, s, key, read.count(s.name) > 0);
    if (!d.digest.empty()) {
      x.state = d.kept() ? StageStatus::Kept : StageStatus::Done;
      x.seconds = d.ledger.value("seconds", 0.0);
      x.peak_rss_mib = d.ledger.value("peak_rss_mib", 0.0);
      digest_of[s.name] = d.digest;
    } else if (!d.have.empty()) {
      x.state = StageStatus::Stale;
    } else if (d.under_key) {
      x.state = StageStatus::Started;
    }
    if (x.state != StageStatus::Done && x.state != StageStatus::Kept && d.ledger.value("state", "") == "failed") {
      if (d.ledger.contains("slurm")) {
        const Json& j = d.ledger["slurm"];
        const std::string reason = j.value("reason", "");
        x.failure = "Slurm job " + std::to_string(j.value("job", int64_t{0})) + " " + j.value("state", "") +
                    (reason.empty() || reason == "None" ? "" : " (" + reason + ")");
      } else {
        x.failure = "exit " + std::to_string(d.ledger.value("exit", 0));
      }
    }
    st.push_back(x);
  }
  return st;
}

}  // namespace medforget
