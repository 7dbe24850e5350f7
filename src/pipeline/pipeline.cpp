// --status: where each stage of a run directory stands, from its files alone.
#include "pipeline/pipeline.hpp"

#include <cstdio>
#include <map>
#include <set>

#include "pipeline/stage_files.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

// What is on disk for each stage: for --status.
struct Found {
  std::string key, have;  // current key ("" when an input is missing); output's digest ("" when unfinished)
  Json ledger;
  bool finished = false, kept = false;  // kept: see StageStatus::Kept
};

std::vector<Found> find_stages(const std::vector<Stage>& stages, const fs::path& out) {
  std::vector<Found> f(stages.size());
  std::map<std::string, std::string> digest_of;
  std::set<std::string> read;  // stages some other stage reads; the others' outputs are the run's results
  for (const auto& s : stages) read.insert(s.deps.begin(), s.deps.end());
  for (size_t i = 0; i < stages.size(); ++i) {
    const Stage& s = stages[i];
    Found& x = f[i];
    x.key = stage_key(s, digest_of);
    x.have = finished_digest(out / s.dir);
    x.ledger = read_ledger(ledger_path(out, s));
    const bool same_key = !x.key.empty() && x.ledger.value("key", "") == x.key;
    const std::string recorded = x.ledger.value("digest", "");
    if (!x.have.empty() && same_key) {
      x.finished = true;
      digest_of[s.name] = x.have;
    } else if (x.have.empty() && same_key && x.ledger.value("state", "") == "done" && !recorded.empty() &&
               read.count(s.name)) {
      x.kept = true;
      digest_of[s.name] = recorded;
    }
  }
  return f;
}

}  // namespace

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
  const auto found = find_stages(stages, out);
  std::vector<StageStatus> st;
  for (const auto& f : found) {
    StageStatus x;
    const bool same_key = !f.key.empty() && f.ledger.value("key", "") == f.key;
    if (f.finished || f.kept) {
      x.state = f.finished ? StageStatus::Done : StageStatus::Kept;
      x.seconds = f.ledger.value("seconds", 0.0);
      x.peak_rss_mib = f.ledger.value("peak_rss_mib", 0.0);
    } else if (!f.have.empty()) {
      x.state = StageStatus::Stale;
    } else if (same_key) {
      x.state = StageStatus::Started;
    }
    st.push_back(x);
  }
  return st;
}

}  // namespace medforget
