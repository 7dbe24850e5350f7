#pragma once
// `run|grid --executor slurm`: the stages of a run as Slurm batch jobs. Each job
// runs this binary on one stage (`--stage-job NAME`, pipeline.hpp run_stage_job)
// and waits in the queue (--dependency=afterok) for the jobs of the stages it
// reads; a job that fails cancels its dependants (--kill-on-invalid-dep). Keys
// and outputs live in the run directory exactly as with the local executor, so
// a stage done either way counts as done for both, and submitting again submits
// only what is missing.
//
// medforget talks to Slurm through its commands (sbatch, squeue, scontrol,
// scancel, sacct when accounting is on), the interface every cluster offers.
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "pipeline/executor.hpp"
#include "pipeline/pipeline.hpp"

namespace medforget {

struct SlurmOptions {
  std::filesystem::path binary;     // medforget, on a filesystem every node mounts at this path
  std::filesystem::path workdir;    // the jobs' working directory (the submitter's)
  std::string partition, account;   // sbatch -p / -A; empty: the cluster's defaults
  int gpus_per_stage = 0;           // --gpus for the stages that run a model
  int cpus_per_stage = 0;           // --cpus-per-task for those; 0: up to 8, as a node allows
  // By stage kind (stage_kind; "" for every kind): --time, --mem.
  std::map<std::string, std::string> time_limit, mem;
  std::vector<std::string> extra;   // further sbatch options, for every job (--qos=..., --constraint=...)
  double poll_seconds = 5;          // how often --wait asks the queue
};

// What a stage does, for its resources: data, finetune, unlearn, eval, attack, mia, report.
std::string stage_kind(const Stage& s);
// Whether a stage of this kind runs a model (gets GPUs and the larger CPU share).
bool kind_runs_model(const std::string& kind);

// Parses "T" (every kind) or "KIND=T" entries of --time-limit / --mem-per-stage.
std::map<std::string, std::string> parse_by_kind(const std::vector<std::string>& entries, const std::string& option);

// The batch script of one stage job, with its resources; `after` is the
// dependency clause or "" (a placeholder text in --dry-run).
std::string slurm_script(const SlurmOptions& o, const Stage& s, const std::vector<std::string>& job_args,
                         const std::filesystem::path& log, int cpus);

// How a Slurm job stands, from squeue (jobs the controller remembers) or, for
// older ones, sacct when accounting is on.
struct SlurmJob {
  std::string state;   // PENDING, RUNNING, COMPLETED, FAILED, TIMEOUT, CANCELLED, PREEMPTED, ...; "" if unknown
  std::string reason;  // squeue's reason (Dependency, TimeLimit, DependencyNeverSatisfied, ...)
  bool active() const { return state == "PENDING" || state == "RUNNING" || state == "CONFIGURING" ||
                               state == "COMPLETING" || state == "SUSPENDED" || state == "REQUEUED" ||
                               state == "RESIZING" || state == "SIGNALING" || state == "STAGE_OUT"; }
};

// Jobs submitted held (nothing starts until every job of a submission is in the
// queue) and released together; a refusal cancels what was submitted.
class SlurmExecutor final : public StageExecutor {
 public:
  SlurmExecutor(SlurmOptions o, std::filesystem::path scripts_dir);
  StageId start(const StageLaunch& stage) override;  // sbatch --hold
  StageEnd wait_any() override;                      // polls the queue
  void cancel(StageId id) override;                  // scancel
  void release();                                    // scontrol release of the held jobs
  void cancel_all();                                 // scancel of every job started here

 private:
  void warn_if_stuck(StageId id, const SlurmJob& job);
  SlurmOptions o_;
  std::filesystem::path scripts_;
  int model_cpus_;
  std::vector<StageId> held_, running_;
  std::set<StageId> warned_;
};

std::map<StageId, SlurmJob> slurm_jobs(const std::vector<StageId>& ids);
std::string describe(StageId id, const SlurmJob& j);  // "job 12 TIMEOUT (TimeLimit)"

// The jobs of the last submission into `out` (OUT/.slurm/jobs.json), by stage.
std::map<std::string, StageId> submitted_jobs(const std::filesystem::path& out);

// Fails, naming the jobs, while jobs of an earlier submission into `out` are
// queued or running: the run directory is in use (`who`: "grid", "run").
void check_no_active_jobs(const std::filesystem::path& out, const std::string& who);

// A stage whose job ended without finishing it (failed, timed out, preempted,
// cancelled, never started) gets a "failed" ledger entry with Slurm's words, so
// --status shows why and the next submission submits it again.
void record_ended_jobs(const std::filesystem::path& out, const std::vector<Stage>& stages);

// Per stage of the last submission into `out`, its job and what Slurm says of it
// (none when Slurm's commands are not here): --status merges it with the files.
struct StageJob {
  StageId job = -1;
  SlurmJob slurm;
  std::string describe() const;  // "job 12 PENDING (Dependency)"
};
std::map<std::string, StageJob> submitted_job_states(const std::filesystem::path& out);

// What can be checked of the shared filesystem the jobs need: the binary's and
// the run directory's filesystem types, against the partition's node count.
// Lines to print: what is assumed, and a warning when a local filesystem meets
// a partition of several nodes.
std::vector<std::string> shared_filesystem_notes(const SlurmOptions& o, const std::filesystem::path& out);

struct SlurmSubmission {
  std::vector<std::string> stages;  // submitted, in plan order
  std::vector<StageId> jobs;
};

// Submits every stage of `stages` that is not done (and any kept stage a
// submitted stage reads). `job_command` is "run" or "grid": the jobs run
// `BINARY <job_command> --out OUT --stage-job NAME`. With `dry_run`, prints the
// job scripts and submits nothing.
SlurmSubmission submit_to_slurm(const std::vector<Stage>& stages, const std::filesystem::path& out,
                                const SlurmOptions& o, const std::string& job_command, bool dry_run,
                                std::unique_ptr<SlurmExecutor>* executor);

// Blocks until the submitted jobs leave the queue, a line per stage as it ends;
// true when every one of them finished its stage.
bool wait_for_slurm(SlurmExecutor& ex, const SlurmSubmission& sub, const std::filesystem::path& out,
                    const std::vector<Stage>& stages);

}  // namespace medforget
