// The Slurm executor and the submission of a run's stages as batch jobs.
#include "pipeline/slurm.hpp"

#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "core/progress.hpp"
#include "core/subprocess.hpp"
#include "pipeline/stage_files.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

constexpr int kMaxDefaultCpus = 8;

fs::path jobs_file(const fs::path& out) { return out / ".slurm" / "jobs.json"; }

std::string quoted(const std::string& s) {  // for a POSIX shell
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  size_t b = 0;
  while (b < s.size() && s[b] == ' ') ++b;
  return s.substr(b);
}

std::string join_ids(const std::vector<StageId>& ids, char sep) {
  std::string s;
  for (StageId id : ids) s += (s.empty() ? "" : std::string(1, sep)) + std::to_string(id);
  return s;
}

ProcessResult slurm_command(const std::vector<std::string>& argv) {
  if (!on_path(argv[0]))
    fail("slurm: " + argv[0] + " is not installed here (not on PATH); --executor slurm runs on a machine that "
         "submits to a Slurm cluster (its login node), with Slurm's client commands installed");
  return run_process(argv);
}

// The most CPUs a node of the partition has, from sinfo; 0 when unknown.
int node_cpus(const std::string& partition) {
  if (!on_path("sinfo")) return 0;
  std::vector<std::string> argv{"sinfo", "-h", "-o", "%c"};
  if (!partition.empty()) argv.insert(argv.begin() + 1, {"-p", partition});
  const ProcessResult r = run_process(argv);
  if (r.code != 0) return 0;
  int best = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    try {
      best = std::max(best, std::stoi(line));  // "8" or "8+" (nodes of several sizes)
    } catch (const std::exception&) {
    }
  }
  return best;
}

}  // namespace

std::string describe(StageId id, const SlurmJob& j) {
  std::string s = "job " + std::to_string(id) + " " + (j.state.empty() ? "no longer known to Slurm" : j.state);
  if (!j.reason.empty() && j.reason != "None") s += " (" + j.reason + ")";
  return s;
}

namespace {

// The filesystem a path lies on, by statfs magic: its name and whether nodes
// typically share it.
std::pair<std::string, bool> filesystem_of(const fs::path& p) {
  struct statfs sf {};
  if (::statfs(p.c_str(), &sf) != 0) return {"unknown", true};
  switch (static_cast<unsigned long>(sf.f_type)) {
    case 0x6969: return {"NFS", true};
    case 0x0BD00BD0: return {"Lustre", true};
    case 0x47504653: return {"GPFS", true};
    case 0x00C36400: return {"CephFS", true};
    case 0x19830326: return {"BeeGFS", true};
    case 0xFF534D42: case 0xFE534D42: return {"SMB", true};
    case 0x65735546: return {"FUSE", true};
    case 0x01021997: return {"9p", true};
    case 0xEF53: return {"ext4 (local)", false};
    case 0x58465342: return {"XFS (local)", false};
    case 0x01021994: return {"tmpfs (local)", false};
    case 0x9123683E: return {"Btrfs (local)", false};
    case 0x794C7630: return {"overlay (local)", false};
    case 0x2FC12FC1: return {"ZFS (local)", false};
    default: {
      char b[32];
      std::snprintf(b, sizeof b, "type 0x%lx", static_cast<unsigned long>(sf.f_type));
      return {b, true};
    }
  }
}

int partition_nodes(const std::string& partition) {
  if (!on_path("sinfo")) return 0;
  std::vector<std::string> argv{"sinfo", "-h", "-o", "%D"};
  if (!partition.empty()) argv.insert(argv.begin() + 1, {"-p", partition});
  const ProcessResult r = run_process(argv);
  int n = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    try {
      n += std::stoi(line);
    } catch (const std::exception&) {
    }
  }
  return n;
}

}  // namespace

std::vector<std::string> shared_filesystem_notes(const SlurmOptions& o, const fs::path& out) {
  std::vector<std::string> notes;
  const int nodes = partition_nodes(o.partition);
  const std::string where = o.partition.empty() ? "the default partition" : "partition " + o.partition;
  for (const auto& [what, path] : {std::pair<std::string, fs::path>{"the binary", o.binary}, {"the run directory", out}}) {
    const auto [type, shared] = filesystem_of(path);
    if (!shared && nodes > 1)
      notes.push_back("warning: " + what + " " + path.string() + " is on " + type + ", and " + where + " has " +
                      std::to_string(nodes) + " nodes: a job on another node will not find it there. Put it on a "
                      "filesystem every node mounts (NFS, Lustre, GPFS, ...)");
    else
      notes.push_back("assumes " + what + " " + path.string() + " (" + type + ") is at the same path on every node "
                      "that runs a job" + (nodes > 0 ? " (" + where + ": " + std::to_string(nodes) + " node" +
                                                           (nodes == 1 ? "" : "s") + ")" : ""));
  }
  return notes;
}

std::string stage_kind(const Stage& s) { return s.name.substr(0, s.name.find('/')); }

bool kind_runs_model(const std::string& kind) { return kind != "data" && kind != "report"; }

std::map<std::string, std::string> parse_by_kind(const std::vector<std::string>& entries, const std::string& option) {
  static const std::set<std::string> kinds{"data", "pretrain", "finetune", "unlearn", "eval", "attack", "mia", "report"};
  std::map<std::string, std::string> m;
  for (const auto& e : entries) {
    const size_t eq = e.find('=');
    std::string kind = eq == std::string::npos ? "" : e.substr(0, eq), value = eq == std::string::npos ? e : e.substr(eq + 1);
    if (!kind.empty() && !kinds.count(kind))
      fail(option + " " + e + ": unknown stage kind '" + kind +
           "' (data, pretrain, finetune, unlearn, eval, attack, mia, report; or a value alone for every kind)");
    if (value.empty() || value.find_first_of(" \t\n'\"\\;") != std::string::npos)
      fail(option + " " + e + ": expected a value such as 2:00:00 (or KIND=VALUE), without spaces or quotes");
    m[kind] = value;
  }
  return m;
}

std::string slurm_script(const SlurmOptions& o, const Stage& s, const std::vector<std::string>& job_args,
                         const fs::path& log, int cpus) {
  const std::string kind = stage_kind(s);
  auto by_kind = [&](const std::map<std::string, std::string>& m) {
    auto it = m.find(kind);
    if (it == m.end()) it = m.find("");
    return it == m.end() ? std::string() : it->second;
  };
  std::ostringstream sc;
  sc << "#!/bin/bash\n# medforget stage '" << s.name << "' (" << kind << "):";
  for (const auto& a : s.args) sc << ' ' << a;
  sc << "\n#SBATCH --job-name=mf-" << flat_name(s.name) << "\n";
  sc << "#SBATCH --output=" << log.string() << "\n#SBATCH --open-mode=append\n";
  sc << "#SBATCH --chdir=" << o.workdir.string() << "\n";
  sc << "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=" << cpus << "\n";
  if (!o.partition.empty()) sc << "#SBATCH --partition=" << o.partition << "\n";
  if (!o.account.empty()) sc << "#SBATCH --account=" << o.account << "\n";
  if (o.gpus_per_stage > 0 && kind_runs_model(kind)) sc << "#SBATCH --gpus=" << o.gpus_per_stage << "\n";
  if (const std::string t = by_kind(o.time_limit); !t.empty()) sc << "#SBATCH --time=" << t << "\n";
  if (const std::string m = by_kind(o.mem); !m.empty()) sc << "#SBATCH --mem=" << m << "\n";
  for (const auto& x : o.extra) sc << "#SBATCH " << x << "\n";
  // A job whose input failed can never start: Slurm cancels it instead of leaving it pending.
  sc << "#SBATCH --kill-on-invalid-dep=yes\n";
  sc << "export MEDFORGET_THREADS=${SLURM_CPUS_PER_TASK:-1}\n";
  sc << "exec " << quoted(o.binary.string());
  for (const auto& a : job_args) sc << ' ' << quoted(a);
  sc << "\n";
  return sc.str();
}

// ---- the executor ---------------------------------------------------------

// CPUs for a stage that runs a model: as asked, else up to 8 as a node of the partition has.
int model_stage_cpus(const SlurmOptions& o) {
  return o.cpus_per_stage > 0 ? o.cpus_per_stage : std::max(1, std::min(kMaxDefaultCpus, node_cpus(o.partition)));
}

SlurmExecutor::SlurmExecutor(SlurmOptions o, fs::path scripts_dir)
    : o_(std::move(o)), scripts_(std::move(scripts_dir)), model_cpus_(model_stage_cpus(o_)) {}

StageId SlurmExecutor::start(const StageLaunch& stage) {
  Stage s;
  s.name = stage.name;
  const int cpus = kind_runs_model(stage_kind(s)) ? model_cpus_ : 1;
  fs::create_directories(scripts_);
  fs::create_directories(stage.log.parent_path());
  const fs::path script = scripts_ / (flat_name(stage.name) + ".sh");
  write_atomic(script, slurm_script(o_, s, stage.args, stage.log, cpus));
  std::vector<std::string> argv{"sbatch", "--parsable", "--hold"};
  if (!stage.after.empty()) argv.push_back("--dependency=afterok:" + join_ids(stage.after, ':'));
  argv.push_back(script.string());
  const ProcessResult r = slurm_command(argv);
  const std::string said = trim(r.err.empty() ? r.out : r.err);
  if (r.code != 0) fail("slurm: sbatch refused stage '" + stage.name + "': " + said);
  StageId id = -1;
  try {
    id = std::stoll(r.out.substr(0, r.out.find(';')));  // "123" or "123;cluster"
  } catch (const std::exception&) {
    fail("slurm: sbatch answered '" + trim(r.out) + "' for stage '" + stage.name + "', not a job id");
  }
  held_.push_back(id);
  running_.push_back(id);
  return id;
}

void SlurmExecutor::release() {
  if (held_.empty()) return;
  const ProcessResult r = slurm_command({"scontrol", "release", join_ids(held_, ',')});
  if (r.code != 0) fail("slurm: scontrol release " + join_ids(held_, ',') + " failed: " + trim(r.err + r.out));
  held_.clear();
}

void SlurmExecutor::cancel(StageId id) { slurm_command({"scancel", std::to_string(id)}); }

void SlurmExecutor::cancel_all() {
  std::vector<std::string> argv{"scancel"};
  for (StageId id : running_) argv.push_back(std::to_string(id));
  if (argv.size() > 1) run_process(argv);
  running_.clear();
  held_.clear();
}

// A pending job whose reason says it cannot start as asked (the partition's
// limits, an unknown account, a node that is down) waits forever without an
// error of its own: said once, with what to do.
void SlurmExecutor::warn_if_stuck(StageId id, const SlurmJob& job) {
  static const std::set<std::string> stuck{"PartitionConfig", "BadConstraints",  "PartitionTimeLimit",
                                           "PartitionNodeLimit", "InvalidAccount", "InvalidQOS",
                                           "PartitionDown",   "PartitionInactive", "ReqNodeNotAvail"};
  if (job.state != "PENDING" || !stuck.count(job.reason.substr(0, job.reason.find(','))) || !warned_.insert(id).second)
    return;
  log_info("slurm: job " + std::to_string(id) + " is pending with reason " + job.reason +
           ": it cannot start as submitted; cancel it (scancel " + std::to_string(id) +
           ") and submit again with other resources, or ask the cluster's administrators");
}

StageEnd SlurmExecutor::wait_any() {
  if (running_.empty()) fail("slurm: no job is running (a scheduler bug)");
  for (;;) {
    const auto jobs = slurm_jobs(running_);
    for (auto it = running_.begin(); it != running_.end(); ++it) {
      const auto j = jobs.find(*it);
      const SlurmJob job = j == jobs.end() ? SlurmJob{} : j->second;
      if (job.active()) {
        warn_if_stuck(*it, job);
        continue;
      }
      StageEnd e;
      e.id = *it;
      e.code = job.state == "COMPLETED" ? 0 : 1;
      e.reason = describe(*it, job);
      running_.erase(it);
      return e;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(o_.poll_seconds));
  }
}

// ---- what Slurm says of jobs ----------------------------------------------

std::map<StageId, SlurmJob> slurm_jobs(const std::vector<StageId>& ids) {
  std::map<StageId, SlurmJob> m;
  if (ids.empty()) return m;
  const ProcessResult r = slurm_command({"squeue", "-h", "-t", "all", "-j", join_ids(ids, ','), "-o", "%i|%T|%r"});
  // squeue refuses a list of which it knows no job ("Invalid job id specified"): all of them ended long ago.
  if (r.code != 0 && r.err.find("Invalid job id") == std::string::npos)
    fail("slurm: squeue failed: " + trim(r.err + r.out));
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, state, reason;
    std::getline(f, id, '|');
    std::getline(f, state, '|');
    std::getline(f, reason);
    try {
      m[std::stoll(id)] = {state, reason};
    } catch (const std::exception&) {
    }
  }
  std::vector<StageId> missing;
  for (StageId id : ids)
    if (!m.count(id)) missing.push_back(id);
  if (missing.empty() || !on_path("sacct")) return m;
  // Ended before the controller's memory (MinJobAge): the accounting database, when there is one.
  const ProcessResult a = run_process({"sacct", "-n", "-P", "-X", "-j", join_ids(missing, ','), "-o", "JobID,State"});
  if (a.code != 0) return m;
  std::istringstream ain(a.out);
  for (std::string line; std::getline(ain, line);) {
    const size_t bar = line.find('|');
    if (bar == std::string::npos) continue;
    try {
      const std::string state = line.substr(bar + 1);
      m[std::stoll(line.substr(0, bar))] = {state.substr(0, state.find(' ')), ""};  // "CANCELLED by 0"
    } catch (const std::exception&) {
    }
  }
  return m;
}

std::map<std::string, StageId> submitted_jobs(const fs::path& out) {
  std::map<std::string, StageId> m;
  if (!fs::exists(jobs_file(out))) return m;
  try {
    const Json j = read_json(jobs_file(out));
    for (const auto& [stage, id] : j.at("jobs").items()) m[stage] = id.get<StageId>();
  } catch (const std::exception& e) {
    fail("slurm: " + jobs_file(out).string() + " is unreadable (" + e.what() +
         "); it records the jobs of the last submission: check them with squeue, then remove it");
  }
  return m;
}

void check_no_active_jobs(const fs::path& out, const std::string& who) {
  const auto jobs = submitted_jobs(out);
  if (jobs.empty()) return;
  if (!on_path("squeue"))
    fail(who + ": " + out.string() + " was submitted to Slurm (" + jobs_file(out).string() +
         ") and squeue is not available here to see whether those jobs still run; use it where Slurm is, or, "
         "once they have ended, remove that file");
  std::vector<StageId> ids;
  for (const auto& [stage, id] : jobs) ids.push_back(id);
  const auto states = slurm_jobs(ids);
  std::string active, list;
  size_t n = 0;
  for (const auto& [stage, id] : jobs) {
    auto it = states.find(id);
    if (it == states.end() || !it->second.active()) continue;
    if (n++ < 5) {  // appended piece by piece: GCC 12 warns falsely (-Wstringop-overflow) on `" " + to_string`
      if (!active.empty()) active += ", ";
      active += stage;
      active += ": ";
      active += describe(id, it->second);
    }
    list += ' ';
    list += std::to_string(id);
  }
  if (n == 0) return;
  fail(who + ": " + out.string() + " is in use by " + std::to_string(n) + " Slurm job" + (n == 1 ? "" : "s") +
       " of an earlier submission (" + active + (n > 5 ? ", ..." : "") + "); wait for them (medforget " + who +
       " --out " + out.string() + " --status shows where they stand) or cancel them: scancel" + list);
}

void record_ended_jobs(const fs::path& out, const std::vector<Stage>& stages) {
  const auto jobs = submitted_jobs(out);
  if (jobs.empty() || !on_path("squeue")) return;
  std::vector<StageId> ids;
  for (const auto& [stage, id] : jobs) ids.push_back(id);
  const auto states = slurm_jobs(ids);
  for (const auto& s : stages) {
    auto j = jobs.find(s.name);
    if (j == jobs.end()) continue;
    auto st = states.find(j->second);
    const SlurmJob job = st == states.end() ? SlurmJob{} : st->second;
    if (job.active() || job.state == "COMPLETED") continue;
    const fs::path lp = ledger_path(out, s);
    Json e = read_ledger(lp);
    if (e.value("state", "") == "done") continue;  // done (by this job before it was killed, or locally since)
    if (e.contains("slurm") && e["slurm"].value("job", StageId{-1}) == j->second) continue;  // recorded already
    e["state"] = "failed";
    e["slurm"] = {{"job", j->second}, {"state", job.state.empty() ? "unknown" : job.state}, {"reason", job.reason}};
    fs::create_directories(lp.parent_path());
    write_json(lp, e);
  }
}

std::string StageJob::describe() const { return medforget::describe(job, slurm); }

std::map<std::string, StageJob> submitted_job_states(const fs::path& out) {
  std::map<std::string, StageJob> m;
  const auto jobs = submitted_jobs(out);
  if (jobs.empty() || !on_path("squeue")) return m;
  std::vector<StageId> ids;
  for (const auto& [stage, id] : jobs) ids.push_back(id);
  const auto states = slurm_jobs(ids);
  for (const auto& [stage, id] : jobs) {
    auto it = states.find(id);
    m[stage] = {id, it == states.end() ? SlurmJob{} : it->second};
  }
  return m;
}

// ---- submission -----------------------------------------------------------

SlurmSubmission submit_to_slurm(const std::vector<Stage>& stages, const fs::path& out_in, const SlurmOptions& o,
                                const std::string& job_command, bool dry_run, std::unique_ptr<SlurmExecutor>* executor) {
  const fs::path out = fs::absolute(out_in).lexically_normal();
  if (!dry_run) record_ended_jobs(out, stages);
  const auto st = pipeline_status(stages, out);
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < stages.size(); ++i) index[stages[i].name] = i;
  std::vector<bool> submit(stages.size());
  for (size_t i = 0; i < stages.size(); ++i)
    submit[i] = st[i].state != StageStatus::Done && st[i].state != StageStatus::Kept;
  // A kept stage (output removed) that a submitted stage reads is made again by its own job.
  for (size_t i = stages.size(); i-- > 0;)
    if (submit[i])
      for (const auto& d : stages[i].deps)
        if (st[index.at(d)].state == StageStatus::Kept) submit[index.at(d)] = true;
  SlurmSubmission sub;
  if (std::none_of(submit.begin(), submit.end(), [](bool b) { return b; })) return sub;

  std::unique_ptr<SlurmExecutor> ex;
  if (!dry_run) ex = std::make_unique<SlurmExecutor>(o, out / ".slurm" / "scripts");
  const int model_cpus = model_stage_cpus(o);
  std::map<std::string, StageId> id_of;
  for (size_t i = 0; i < stages.size(); ++i) {
    if (!submit[i]) continue;
    const Stage& s = stages[i];
    std::vector<StageId> after;
    std::string after_names;
    for (const auto& d : s.deps)
      if (submit[index.at(d)]) {
        if (!after_names.empty()) after_names += ':';
        after_names += '<';
        after_names += d;
        after_names += '>';
        if (!dry_run) after.push_back(id_of.at(d));
      }
    const std::vector<std::string> job_args{job_command, "--out", out.string(), "--stage-job", s.name};
    if (dry_run) {
      std::printf("# ---- sbatch --hold%s %s\n%s", after_names.empty() ? "" : (" --dependency=afterok:" + after_names).c_str(),
                  (out / ".slurm" / "scripts" / (flat_name(s.name) + ".sh")).string().c_str(),
                  slurm_script(o, s, job_args, log_path(out, s), kind_runs_model(stage_kind(s)) ? model_cpus : 1).c_str());
      sub.stages.push_back(s.name);
      continue;
    }
    try {
      id_of[s.name] = ex->start({s.name, job_args, log_path(out, s), after});
    } catch (const Error& e) {
      const size_t n = id_of.size();
      ex->cancel_all();
      fail(std::string(e.what()) + "\nnothing was submitted" +
           (n ? " (the " + std::to_string(n) + " held job" + (n == 1 ? " submitted before it was" : "s submitted before it were") +
                    " cancelled)"
              : ""));
    }
    sub.stages.push_back(s.name);
    sub.jobs.push_back(id_of[s.name]);
  }
  if (dry_run) return sub;
  Json rec = {{"submitted", utc_now()}, {"binary", o.binary.string()}, {"jobs", Json::object()}};
  for (const auto& [name, id] : id_of) rec["jobs"][name] = id;
  write_json(jobs_file(out), rec);
  try {
    ex->release();
  } catch (const Error& e) {
    ex->cancel_all();
    fail(std::string(e.what()) + "; the submitted jobs were cancelled");
  }
  if (executor) *executor = std::move(ex);
  return sub;
}

bool wait_for_slurm(SlurmExecutor& ex, const SlurmSubmission& sub, const fs::path& out,
                    const std::vector<Stage>& stages) {
  std::map<StageId, std::string> stage_of;
  for (size_t i = 0; i < sub.jobs.size(); ++i) stage_of[sub.jobs[i]] = sub.stages[i];
  std::map<std::string, const Stage*> by_name;
  for (const auto& s : stages) by_name[s.name] = &s;
  const auto t0 = std::chrono::steady_clock::now();
  bool all_ok = true;
  for (size_t k = 1; k <= sub.jobs.size(); ++k) {
    const StageEnd e = ex.wait_any();
    const std::string& name = stage_of.at(e.id);
    const Stage& s = *by_name.at(name);
    const bool done = read_ledger(ledger_path(out, s)).value("state", "") == "done";
    all_ok = all_ok && done;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "[slurm] (%zu/%zu) %-32s %s (%s; elapsed %s)\n", k, sub.jobs.size(), name.c_str(),
                 done ? "done" : "FAILED", e.reason.c_str(), format_duration(secs).c_str());
  }
  record_ended_jobs(out, stages);
  return all_ok;
}

}  // namespace medforget
