// run_pipeline: the stages of a run on an executor (pipeline/executor.hpp), up to
// `jobs` at a time, with caching by key, kept stages and resume.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <thread>

#include "core/error.hpp"
#include "pipeline/executor.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/stage_files.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The Slurm job a stage runs in, in its ledger entry: --status and the next
// submission ask Slurm how a job that never wrote "done" ended.
void note_job(Json& entry) {
  if (const char* job = std::getenv("SLURM_JOB_ID")) entry["slurm_job"] = job;
}

std::string tail_of(const fs::path& log, size_t lines) {
  std::ifstream in(log);
  std::vector<std::string> all;
  for (std::string l; std::getline(in, l);) all.push_back(l);
  std::string s;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) s += "    " + all[i] + "\n";
  return s;
}

// A kept stage (finished, its output removed: a run restored from records) counts
// as done under the digest its ledger recorded until a stage that reads it has to
// run; then it runs again first. A stage whose input ran again and changed runs
// again too, so nothing done on an old output stands beside a new one.
class Scheduler {
 public:
  // `sole`: the one stage that may run (a stage job: the others are its inputs and
  // must be done already); stages.size() for none, every stage may run.
  Scheduler(const std::vector<Stage>& stages, const fs::path& out, int jobs, StageExecutor& executor, size_t sole)
      : stages_(stages), out_(out), jobs_(jobs), executor_(executor), sole_(sole), st_(stages.size()),
        ran_(stages.size(), false) {
    for (size_t i = 0; i < stages_.size(); ++i) {
      for (const auto& d : stages_[i].deps) {
        if (!index_of_.count(d))
          fail("run: stage '" + stages_[i].name + "' depends on '" + d + "', which is not planned before it");
        readers_[d].push_back(i);
      }
      index_of_[stages_[i].name] = i;
      total_w_ += stages_[i].weight;
    }
    // Concurrent stages share the cores instead of each taking all of them
    // (MEDFORGET_THREADS, which the children inherit, unless the user set it).
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (jobs_ > 1 && !std::getenv("MEDFORGET_THREADS"))
      setenv("MEDFORGET_THREADS", std::to_string(std::max(1, hw / jobs_)).c_str(), 1);
  }

  PipelineResult run() {
    fs::create_directories(out_ / ".stages");
    t0_ = std::chrono::steady_clock::now();
    for (;;) {
      take_all_cached();
      const bool remade = fill_slots();
      if (running_.empty()) {
        if (remade) continue;  // an input to make again is ready now
        break;
      }
      finish(executor_.wait_any());
    }
    if (!failure_.empty()) fail(failure_);
    for (size_t i = 0; i < stages_.size(); ++i)
      if (st_[i].state != Done) fail("run: stage '" + stages_[i].name + "' never became ready");  // a planning bug
    // A stage that ran counts once as ran even if it ran twice (an input made again under it).
    PipelineResult res;
    res.ran = static_cast<size_t>(std::count(ran_.begin(), ran_.end(), true));
    res.cached = stages_.size() - res.ran;
    res.seconds = elapsed();
    return res;
  }

 private:
  enum State { Waiting, Running, Done };
  struct StageState {
    State state = Waiting;
    bool kept = false;      // done, output removed (see the class comment)
    bool must_run = false;  // neither cached nor kept any more
    std::string key;        // the key it is done (or running) under
  };
  struct Child {
    size_t i;
    std::chrono::steady_clock::time_point t;
    double started_unix;
  };

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

  std::string head(size_t i) const {
    char b[96];
    std::snprintf(b, sizeof b, "[run] (%zu/%zu) %-32s", i + 1, stages_.size(), stages_[i].name.c_str());
    return b;
  }

  // Done, and so is everything it was made from: while an input of a done stage
  // runs again, that stage may still change under a reader.
  bool settled(size_t i) const {
    if (st_[i].state != Done) return false;
    for (const auto& d : stages_[i].deps)
      if (!settled(index_of_.at(d))) return false;
    return true;
  }

  // Its inputs settled, and no stage still reading its previous output (running it
  // again removes that output first).
  bool ready(size_t i) const {
    if (st_[i].state != Waiting) return false;
    for (const auto& d : stages_[i].deps)
      if (!settled(index_of_.at(d))) return false;
    auto r = readers_.find(stages_[i].name);
    if (r != readers_.end())
      for (size_t j : r->second)
        if (st_[j].state == Running) return false;
    return true;
  }

  void mark_done(size_t i, const std::string& key, const std::string& digest) {
    st_[i].state = Done;
    st_[i].key = key;
    digest_of_[stages_[i].name] = digest;
    done_w_ += stages_[i].weight;
  }

  // Cached (finished under its key) or kept (see stage_on_disk).
  bool take_cached(size_t i) {
    const Stage& s = stages_[i];
    StageState& x = st_[i];
    if (x.must_run) return false;
    const std::string key = stage_key(s, digest_of_);
    const StageOnDisk d = stage_on_disk(out_, s, key, !readers_[s.name].empty());
    if (d.digest.empty()) return false;
    x.kept = d.kept();
    if (!x.kept && (d.ledger.value("state", "") != "done" || d.ledger.value("digest", "") != d.have)) {
      Json e = d.ledger;  // a run killed between the stage's manifest and its ledger line left "running"
      e["state"] = "done";
      e["digest"] = d.have;
      write_json(ledger_path(out_, s), e);
    }
    mark_done(i, key, d.digest);
    std::fprintf(stderr, "%s %s\n", head(i).c_str(), x.kept ? "kept (output removed, not needed so far)" : "cached");
    return true;
  }

  void take_all_cached() {  // in plan order, so that one pass reaches every cached stage
    for (size_t i = 0; i < stages_.size(); ++i)
      if (ready(i)) take_cached(i);
  }

  // Back to waiting: a kept stage whose output a reader needs, or a done stage whose input changed.
  void redo(size_t i, const std::string& why) {
    StageState& x = st_[i];
    x = StageState{};
    x.must_run = true;
    done_w_ -= stages_[i].weight;
    digest_of_.erase(stages_[i].name);
    std::fprintf(stderr, "%s runs again: %s\n", head(i).c_str(), why.c_str());
  }

  // Starts ready stages while slots are free: one job in plan order, several the
  // costliest first, so the long trainings start early and the short measurements
  // fill in beside them. True when a kept input was sent back to be made again.
  bool fill_slots() {
    bool remade = false;
    while (failure_.empty() && static_cast<int>(running_.size()) < jobs_) {
      size_t best = stages_.size();
      for (size_t i = 0; i < stages_.size(); ++i)
        if (ready(i) && (best == stages_.size() || (jobs_ > 1 && stages_[i].weight > stages_[best].weight))) best = i;
      if (best == stages_.size()) break;
      if (!launch(best)) remade = true;
    }
    return remade;
  }

  // False when an input's output must be made again first (that input then waits to run).
  bool launch(size_t i) {
    const Stage& s = stages_[i];
    bool inputs_there = true;
    for (const auto& d : s.deps) {
      const size_t k = index_of_.at(d);
      if (st_[k].kept) {
        redo(k, "'" + s.name + "' reads its output");
        inputs_there = false;
      }
    }
    if (!inputs_there) return false;
    if (sole_ < stages_.size() && i != sole_) {
      failure_ = "run: '" + stages_[sole_].name + "' reads '" + s.name + "', which is not done" +
                 (st_[i].must_run ? " (its output was removed)" : "") +
                 "; this job runs one stage on finished inputs. Submitting the run again submits what is missing";
      return true;
    }
    const std::string key = stage_key(s, digest_of_);
    const fs::path dir = out_ / s.dir, ledger = ledger_path(out_, s);
    const std::string recorded = read_ledger(ledger).value("key", "");
    // Changed inputs or options: the old output and any partial state of another key go.
    if (!finished_digest(dir).empty() || (!recorded.empty() && recorded != key)) remove_output(dir);
    const double now = unix_now();
    Json started = {{"key", key}, {"args", s.args}, {"state", "running"}, {"started", now}};
    note_job(started);
    write_json(ledger, started);
    std::vector<std::string> args;
    for (const auto& a : s.args) args.push_back(expand_out(a, out_));
    const fs::path log = log_path(out_, s);
    std::fprintf(stderr, "%s running (log %s)\n", head(i).c_str(), log.string().c_str());
    running_[executor_.start({s.name, args, log, {}})] = {i, std::chrono::steady_clock::now(), now};
    st_[i].state = Running;
    st_[i].key = key;
    return true;
  }

  void finish(const StageEnd& ex) {
    auto it = running_.find(ex.id);
    if (it == running_.end()) return;  // not a stage of this run
    const Child c = it->second;
    running_.erase(it);
    const Stage& s = stages_[c.i];
    const fs::path dir = out_ / s.dir, log = log_path(out_, s);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - c.t).count();
    const std::string have = ex.code == 0 ? finished_digest(dir) : "", key = st_[c.i].key;
    const double rss_mib = static_cast<double>(ex.max_rss_kib) / 1024.0;
    Json entry = {{"key", key},           {"args", s.args},          {"seconds", secs}, {"peak_rss_mib", rss_mib},
                  {"started", c.started_unix}, {"finished", unix_now()}};
    note_job(entry);
    if (have.empty()) {
      entry["state"] = "failed";
      entry["exit"] = ex.code;
      write_json(ledger_path(out_, s), entry);
      std::fprintf(stderr, "%s FAILED (exit %d, log %s)\n", head(c.i).c_str(), ex.code, log.string().c_str());
      if (failure_.empty())
        failure_ = ex.code != 0 ? "run: stage '" + s.name + "' failed (exit " + std::to_string(ex.code) +
                                      "); last lines of " + log.string() + ":\n" + tail_of(log, 15)
                                : "run: stage '" + s.name + "' finished without a manifest in " + dir.string();
      return;
    }
    entry["state"] = "done";
    entry["digest"] = have;
    write_json(ledger_path(out_, s), entry);
    ran_[c.i] = true;
    ran_w_ += s.weight;
    if (stage_key(s, digest_of_) != key) {
      // An input was sent back to run again while this ran: decided again once it is done
      // (cached if the input comes out the same, run again if not).
      st_[c.i].state = Waiting;
      std::fprintf(stderr, "%s done in %s, on an input that runs again: checked once it is done\n",
                   head(c.i).c_str(), format_duration(secs).c_str());
      return;
    }
    mark_done(c.i, key, have);
    const double eta = elapsed() / ran_w_ * (total_w_ - done_w_);
    std::fprintf(stderr, "%s done in %s, peak RSS %.0f MiB (elapsed %s, ETA %s)\n", head(c.i).c_str(),
                 format_duration(secs).c_str(), rss_mib, format_duration(elapsed()).c_str(),
                 format_duration(eta).c_str());
    for (size_t j : readers_[s.name]) {  // done on an input's previous output
      if (st_[j].state != Done) continue;
      const std::string k = stage_key(stages_[j], digest_of_);  // "": another input still to come, checked then
      if (!k.empty() && k != st_[j].key) redo(j, "an input changed");
    }
  }

  const std::vector<Stage>& stages_;
  const fs::path out_;
  const int jobs_;
  StageExecutor& executor_;
  const size_t sole_;
  std::vector<StageState> st_;
  std::map<std::string, size_t> index_of_;
  std::map<std::string, std::vector<size_t>> readers_;
  std::map<std::string, std::string> digest_of_;  // done stage -> content digest of its output
  std::map<StageId, Child> running_;
  std::string failure_;  // the first failed stage's message: nothing new starts after it
  std::vector<bool> ran_;  // ran in this run (the rest were cached or kept)
  double total_w_ = 0, done_w_ = 0, ran_w_ = 0;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace

PipelineResult run_pipeline(const std::vector<Stage>& stages, const fs::path& out, int jobs) {
  if (jobs < 1) fail("run: --jobs must be at least 1, got " + std::to_string(jobs));
  const auto executor = make_local_executor();
  return Scheduler(stages, out, jobs, *executor, stages.size()).run();
}

PipelineResult run_stage_job(const std::vector<Stage>& stages, const std::string& name, const fs::path& out) {
  const auto it = std::find_if(stages.begin(), stages.end(), [&](const Stage& s) { return s.name == name; });
  if (it == stages.end()) fail("run: --stage-job " + name + ": no such stage in " + out.string() + "'s plan");
  // The stage and what it reads, in plan order: the stage comes last.
  const std::vector<Stage> sel = select_stages(stages, {name});
  if (sel.back().name != name) fail("run: --stage-job " + name + ": not last in its selection (a planning bug)");
  const auto executor = make_local_executor();
  return Scheduler(sel, out, 1, *executor, sel.size() - 1).run();
}

}  // namespace medforget
