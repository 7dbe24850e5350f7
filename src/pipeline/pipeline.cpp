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
#include <map>

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

struct StageExit {
  int code = 0;
  long max_rss_kib = 0;  // the stage process's peak resident set
};

StageExit exec_stage(const std::vector<std::string>& args, const fs::path& log) {
  fs::create_directories(log.parent_path());
  pid_t pid = fork();
  if (pid < 0) fail("run: fork failed");
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed run takes its stage with it
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    std::vector<char*> argv;
    std::string self = "medforget";
    argv.push_back(self.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  int status = 0;
  struct rusage ru {};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) fail("run: wait4 failed");
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ru.ru_maxrss};
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
// "" when one of them has no output yet.
std::string stage_key(const Stage& s, const std::map<std::string, std::string>& digest_of) {
  std::string key_src = std::string(kMedforgetVersion) + "\n";
  for (const auto& a : s.args) key_src += a + "\n";
  for (const auto& d : s.deps) {
    auto it = digest_of.find(d);
    if (it == digest_of.end()) return "";
    key_src += d + "=" + it->second + "\n";
  }
  return sha256_hex(key_src);
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
    case StageStatus::Started: return "started";
    case StageStatus::Stale: return "stale";
    case StageStatus::Pending: return "pending";
  }
  return "?";
}

std::vector<StageStatus> pipeline_status(const std::vector<Stage>& stages, const fs::path& out) {
  std::map<std::string, std::string> digest_of;
  std::vector<StageStatus> st;
  for (const auto& s : stages) {
    StageStatus x;
    const std::string key = stage_key(s, digest_of), have = finished_digest(out / s.dir);
    const fs::path ledger = ledger_path(out, s);
    Json rec = Json::object();
    if (fs::exists(ledger)) {
      try {
        rec = read_json(ledger);
      } catch (const std::exception&) {
      }
    }
    const bool same_key = !key.empty() && rec.value("key", "") == key;
    if (!have.empty() && same_key) {
      x.state = StageStatus::Done;
      x.seconds = rec.value("seconds", 0.0);
      x.peak_rss_mib = rec.value("peak_rss_mib", 0.0);
      digest_of[s.name] = have;
    } else if (!have.empty()) {
      x.state = StageStatus::Stale;
    } else if (same_key) {
      x.state = StageStatus::Started;
    }
    st.push_back(x);
  }
  return st;
}

PipelineResult run_pipeline(const std::vector<Stage>& stages, const fs::path& out) {
  fs::create_directories(out / ".stages");
  std::map<std::string, std::string> digest_of;  // stage -> content digest of its output
  double total_w = 0, done_w = 0, ran_w = 0;
  for (const auto& s : stages) total_w += s.weight;
  PipelineResult res;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < stages.size(); ++i) {
    const Stage& s = stages[i];
    for (const auto& d : s.deps)
      if (!digest_of.count(d)) fail("run: stage '" + s.name + "' depends on '" + d + "', which is not planned before it");
    const std::string key = stage_key(s, digest_of);
    const fs::path dir = out / s.dir, ledger = ledger_path(out, s);
    std::string have = finished_digest(dir);
    char head[96];
    std::snprintf(head, sizeof head, "[run] (%zu/%zu) %-32s", i + 1, stages.size(), s.name.c_str());
    const Json entry = fs::exists(ledger) ? read_json(ledger) : Json::object();
    const std::string recorded = entry.value("key", "");
    if (!have.empty() && recorded == key) {
      // A run killed between the stage's manifest and its ledger line left "running".
      if (entry.value("state", "") != "done") {
        Json e = entry;
        e["state"] = "done";
        write_json(ledger, e);
      }
      digest_of[s.name] = have;
      ++res.cached;
      done_w += s.weight;
      std::fprintf(stderr, "%s cached\n", head);
      continue;
    }
    // Changed inputs or options: the old output and any partial state of another key go.
    if (!have.empty() || (!recorded.empty() && recorded != key)) {
      fs::remove_all(dir);
      fs::remove_all(dir.string() + ".partial");
    }
    write_json(ledger, {{"key", key}, {"args", s.args}, {"state", "running"}});
    std::vector<std::string> args;
    for (const auto& a : s.args) args.push_back(expand(a, out));
    const fs::path log = out / "logs" / (flat(s.name) + ".log");
    std::fprintf(stderr, "%s running (log %s)\n", head, log.string().c_str());
    const auto ts = std::chrono::steady_clock::now();
    StageExit ex = exec_stage(args, log);
    const int rc = ex.code;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
    if (rc != 0)
      fail("run: stage '" + s.name + "' failed (exit " + std::to_string(rc) + "); last lines of " + log.string() +
           ":\n" + tail_of(log, 15));
    have = finished_digest(dir);
    if (have.empty()) fail("run: stage '" + s.name + "' finished without a manifest in " + dir.string());
    digest_of[s.name] = have;
    const double rss_mib = static_cast<double>(ex.max_rss_kib) / 1024.0;
    write_json(ledger, {{"key", key}, {"args", s.args}, {"state", "done"}, {"seconds", secs}, {"peak_rss_mib", rss_mib}});
    ++res.ran;
    done_w += s.weight;
    ran_w += s.weight;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double eta = ran_w > 0 ? elapsed / ran_w * (total_w - done_w) : 0;
    std::fprintf(stderr, "%s done in %s, peak RSS %.0f MiB (elapsed %s, ETA %s)\n", head, format_duration(secs).c_str(),
                 rss_mib, format_duration(elapsed).c_str(), format_duration(eta).c_str());
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace medforget
