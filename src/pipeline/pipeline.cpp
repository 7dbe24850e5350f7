#include "pipeline/pipeline.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/progress.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

std::string expand(const std::string& a, const fs::path& out) {
  std::string s = a;
  for (size_t p; (p = s.find("$OUT")) != std::string::npos;) s.replace(p, 4, out.string());
  return s;
}

std::string flat(const std::string& name) {
  std::string f = name;
  for (auto& ch : f)
    if (ch == '/') ch = '_';
  return f;
}

// Content digest of a finished stage directory (its manifest), "" if unfinished.
std::string finished_digest(const fs::path& dir) {
  const auto m = dir / "manifest.json";
  if (!fs::exists(m)) return "";
  try {
    return read_json(m).at("content_digest").get<std::string>();
  } catch (const std::exception&) {
    return "";
  }
}

// Starts one stage as a child process of this binary; its output goes to `log`.
// `threads` > 0 caps its intra-op threads (MEDFORGET_THREADS) when the user set none,
// so that concurrent stages share the cores instead of each taking all of them.
pid_t start_stage(const std::vector<std::string>& args, const fs::path& log, int threads) {
  fs::create_directories(log.parent_path());
  pid_t pid = fork();
  if (pid < 0) fail("run: fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed run takes its stages with it
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    if (threads > 0 && !std::getenv("MEDFORGET_THREADS"))
      setenv("MEDFORGET_THREADS", std::to_string(threads).c_str(), 1);
    std::vector<char*> argv;
    std::string self = "medforget";
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  return pid;
}

struct StageExit {
  pid_t pid = 0;
  int code = 0;
  long max_rss_kib = 0;  // the stage process's peak resident set
};

// Waits for whichever stage ends first.
StageExit wait_any_stage() {
  int status = 0;
  struct rusage ru {};
  pid_t pid;
  while ((pid = wait4(-1, &status, 0, &ru)) < 0) {
    if (errno != EINTR) fail("run: wait4 failed");
  }
  return {pid, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ru.ru_maxrss};
}

std::string tail_of(const fs::path& log, size_t lines) {
  std::ifstream in(log);
  std::vector<std::string> all;
  for (std::string l; std::getline(in, l);) all.push_back(l);
  std::string s;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) s += "    " + all[i] + "\n";
  return s;
}

fs::path ledger_path(const fs::path& out, const Stage& s) { return out / ".stages" / (flat(s.name) + ".json"); }

// The cache key: the arguments and the content digests of the stages it reads;
// "" when one of them has no output yet. `--device` is left out: where a stage
// ran is an execution detail like its thread count (kept in its ledger), so a
// run moved between a GPU machine and a CPU one goes on where it was.
std::string stage_key(const Stage& s, const std::map<std::string, std::string>& digest_of) {
  std::string key_src = std::string(kMedforgetVersion) + "\n";
  for (size_t k = 0; k < s.args.size(); ++k) {
    if (s.args[k] == "--device" && k + 1 < s.args.size()) {
      ++k;
      continue;
    }
    key_src += s.args[k] + "\n";
  }
  for (const auto& d : s.deps) {
    auto it = digest_of.find(d);
    if (it == digest_of.end()) return "";
    key_src += d + "=" + it->second + "\n";
  }
  return sha256_hex(key_src);
}

Json read_ledger(const fs::path& ledger) {
  if (!fs::exists(ledger)) return Json::object();
  try {
    return read_json(ledger);
  } catch (const std::exception&) {
    return Json::object();  // a torn write: the stage counts as not run
  }
}

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

PipelineResult run_pipeline(const std::vector<Stage>& stages, const fs::path& out, int jobs) {
  if (jobs < 1) fail("run: --jobs must be at least 1, got " + std::to_string(jobs));
  std::map<std::string, size_t> index_of;
  for (size_t i = 0; i < stages.size(); ++i) {
    for (const auto& d : stages[i].deps)
      if (!index_of.count(d))
        fail("run: stage '" + stages[i].name + "' depends on '" + d + "', which is not planned before it");
    index_of[stages[i].name] = i;
  }
  fs::create_directories(out / ".stages");
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = jobs > 1 ? std::max(1, hw / jobs) : 0;
  std::map<std::string, std::string> digest_of;  // finished stage -> content digest of its output
  double total_w = 0, done_w = 0, ran_w = 0;
  for (const auto& s : stages) total_w += s.weight;
  PipelineResult res;
  const auto t0 = std::chrono::steady_clock::now();
  enum class St { Waiting, Running, Done };
  std::vector<St> state(stages.size(), St::Waiting);
  struct Running {
    size_t i;
    std::string key;
    std::chrono::steady_clock::time_point t;
    double started_unix;
  };
  std::map<pid_t, Running> running;
  // A kept stage (finished, output removed: a run restored from records) counts as
  // done under its recorded digest until a stage that reads it has to run; then it
  // runs again first. If its new output differs, the stages that were done on the
  // old one are stale and run again too.
  std::vector<bool> kept(stages.size(), false), cached(stages.size(), false), must_run(stages.size(), false);
  std::vector<std::string> done_key(stages.size());
  std::map<std::string, std::vector<size_t>> readers;
  for (size_t i = 0; i < stages.size(); ++i)
    for (const auto& d : stages[i].deps) readers[d].push_back(i);
  std::string failure;  // the first failed stage's message: nothing new starts after it
  auto head = [&](size_t i) {
    char b[96];
    std::snprintf(b, sizeof b, "[run] (%zu/%zu) %-32s", i + 1, stages.size(), stages[i].name.c_str());
    return std::string(b);
  };
  auto ready = [&](size_t i) {
    if (state[i] != St::Waiting) return false;
    for (const auto& d : stages[i].deps)
      if (!digest_of.count(d)) return false;
    return true;
  };
  // A ready stage whose output is finished under its key is cached; true if `i` was.
  auto take_cached = [&](size_t i) {
    const Stage& s = stages[i];
    if (must_run[i]) return false;
    const std::string key = stage_key(s, digest_of), have = finished_digest(out / s.dir);
    const fs::path ledger = ledger_path(out, s);
    const Json entry = read_ledger(ledger);
    if (key.empty() || entry.value("key", "") != key) return false;
    if (have.empty()) {  // kept, unless nothing reads it: then its output is one of the run's results
      if (entry.value("state", "") != "done" || entry.value("digest", "").empty() || readers[s.name].empty())
        return false;
      digest_of[s.name] = entry.at("digest").get<std::string>();
      kept[i] = true;
    } else {
      if (entry.value("state", "") != "done" || entry.value("digest", "") != have) {
        // A run killed between the stage's manifest and its ledger line left "running".
        Json e = entry;
        e["state"] = "done";
        e["digest"] = have;
        write_json(ledger, e);
      }
      digest_of[s.name] = have;
    }
    state[i] = St::Done;
    cached[i] = true;
    done_key[i] = key;
    ++res.cached;
    done_w += s.weight;
    std::fprintf(stderr, "%s %s\n", head(i).c_str(), kept[i] ? "kept (output removed, not needed so far)" : "cached");
    return true;
  };
  // Back to waiting: a kept stage whose output a reader needs, or a done stage whose input changed.
  auto redo = [&](size_t i, const char* why) {
    state[i] = St::Waiting;
    must_run[i] = true;
    kept[i] = false;
    if (cached[i]) --res.cached;
    cached[i] = false;
    done_w -= stages[i].weight;
    digest_of.erase(stages[i].name);
    std::fprintf(stderr, "%s runs again: %s\n", head(i).c_str(), why);
  };
  // False when a dep's output must be made again first (the dep is then waiting).
  auto launch = [&](size_t i) {
    const Stage& s = stages[i];
    bool inputs_there = true;
    for (const auto& d : s.deps) {
      const size_t k = index_of.at(d);
      if (kept[k]) {
        redo(k, ("'" + s.name + "' reads its output").c_str());
        inputs_there = false;
      }
    }
    if (!inputs_there) return false;
    const std::string key = stage_key(s, digest_of);
    const fs::path dir = out / s.dir, ledger = ledger_path(out, s);
    const std::string recorded = read_ledger(ledger).value("key", "");
    // Changed inputs or options: the old output and any partial state of another key go.
    if (!finished_digest(dir).empty() || (!recorded.empty() && recorded != key)) {
      fs::remove_all(dir);
      fs::remove_all(dir.string() + ".partial");
    }
    const double now_unix =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    write_json(ledger, {{"key", key}, {"args", s.args}, {"state", "running"}, {"started", now_unix}});
    std::vector<std::string> args;
    for (const auto& a : s.args) args.push_back(expand(a, out));
    const fs::path log = out / "logs" / (flat(s.name) + ".log");
    std::fprintf(stderr, "%s running (log %s)\n", head(i).c_str(), log.string().c_str());
    running[start_stage(args, log, threads)] = {i, key, std::chrono::steady_clock::now(), now_unix};
    state[i] = St::Running;
    return true;
  };
  auto finish = [&](const StageExit& ex) {
    auto it = running.find(ex.pid);
    if (it == running.end()) return;  // not one of ours
    const Running r = it->second;
    running.erase(it);
    const Stage& s = stages[r.i];
    const fs::path dir = out / s.dir, log = out / "logs" / (flat(s.name) + ".log");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - r.t).count();
    std::string have = ex.code == 0 ? finished_digest(dir) : "";
    if (ex.code != 0 || have.empty()) {
      std::string msg = ex.code != 0 ? "run: stage '" + s.name + "' failed (exit " + std::to_string(ex.code) +
                                           "); last lines of " + log.string() + ":\n" + tail_of(log, 15)
                                     : "run: stage '" + s.name + "' finished without a manifest in " + dir.string();
      std::fprintf(stderr, "%s FAILED (exit %d, log %s)\n", head(r.i).c_str(), ex.code, log.string().c_str());
      if (failure.empty()) failure = msg;
      return;
    }
    digest_of[s.name] = have;
    state[r.i] = St::Done;
    done_key[r.i] = r.key;
    for (size_t j : readers[s.name])  // done on this stage's previous output, which it no longer has
      if (state[j] == St::Done && stage_key(stages[j], digest_of) != done_key[j])
        redo(j, ("its input '" + s.name + "' changed").c_str());
    const double rss_mib = static_cast<double>(ex.max_rss_kib) / 1024.0;
    const double end_unix =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    write_json(ledger_path(out, s), {{"key", r.key},
                                     {"args", s.args},
                                     {"state", "done"},
                                     {"digest", have},
                                     {"seconds", secs},
                                     {"peak_rss_mib", rss_mib},
                                     {"started", r.started_unix},
                                     {"finished", end_unix}});
    ++res.ran;
    done_w += s.weight;
    ran_w += s.weight;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double eta = ran_w > 0 ? elapsed / ran_w * (total_w - done_w) : 0;
    std::fprintf(stderr, "%s done in %s, peak RSS %.0f MiB (elapsed %s, ETA %s)\n", head(r.i).c_str(),
                 format_duration(secs).c_str(), rss_mib, format_duration(elapsed).c_str(),
                 format_duration(eta).c_str());
  };
  for (;;) {
    // Cached stages first (they may make others ready), then ready stages into the
    // free slots: one job runs them in plan order; several take the costliest first,
    // so the long trainings start early and the short measurements fill in beside them.
    for (bool again = true; again;) {
      again = false;
      for (size_t i = 0; i < stages.size(); ++i)
        if (ready(i) && take_cached(i)) again = true;
    }
    bool relaunch = false;
    while (failure.empty() && static_cast<int>(running.size()) < jobs) {
      size_t best = stages.size();
      for (size_t i = 0; i < stages.size(); ++i)
        if (ready(i) && (best == stages.size() || (jobs > 1 && stages[i].weight > stages[best].weight))) best = i;
      if (best == stages.size()) break;
      if (!launch(best)) relaunch = true;  // an input to make again: it is ready now (its inputs are done)
    }
    if (running.empty() && !relaunch) break;
    if (running.empty()) continue;
    finish(wait_any_stage());
  }
  if (!failure.empty()) fail(failure);
  for (size_t i = 0; i < stages.size(); ++i)
    if (state[i] != St::Done) fail("run: stage '" + stages[i].name + "' never became ready");  // a planning bug
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace medforget
