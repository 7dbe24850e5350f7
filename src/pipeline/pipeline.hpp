#pragma once
// A run is a list of stages, each one medforget command writing one
// directory. A stage is skipped when its directory is finished (valid
// manifest) and its key, the digest of its arguments and of its inputs'
// content digests, is unchanged; so a second run recomputes nothing, a changed
// unlearning option recomputes that unlearning and what depends on it, and a
// killed run resumes at the stage it was in (fine-tuning inside the stage too).
#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/run_config.hpp"

namespace medforget {

struct Stage {
  std::string name;               // "finetune", "unlearn/chip-patient", ...
  std::vector<std::string> args;  // medforget arguments; "$OUT" stands for the run directory
  std::string dir;                // output directory relative to the run directory
  std::vector<std::string> deps;  // names of the stages whose outputs it reads
  double weight = 1;              // expected relative cost, for the ETA
};

std::vector<Stage> plan_stages(const RunConfig& c);

// The stages whose names match one of `patterns` (shell globs: "unlearn/chip*",
// "*-patient") and every stage they read, in plan order: `run|grid --only`, to
// put part of a long grid first. Fails naming a pattern that matches no stage.
std::vector<Stage> select_stages(const std::vector<Stage>& stages, const std::vector<std::string>& patterns);

// Per stage, whether its name matches one of `patterns` (shell globs). Fails
// naming a pattern that matches no stage; `option` ("--only", "--redo") says
// whose and `among` which stages were searched ("of this plan").
std::vector<bool> match_stages(const std::vector<Stage>& stages, const std::vector<std::string>& patterns,
                               const std::string& option, const std::string& among);

// `run|grid --redo`: removes the stage's output and ledger entry from `out`, so
// the next run makes it again, and whatever read it runs again if the new output
// differs. For stages finished by a build before a fix to their method: keys
// cover a stage's inputs and options, not the code that ran it.
void clear_stage(const std::filesystem::path& out, const Stage& s);

struct PipelineResult {
  size_t ran = 0, cached = 0;
  double seconds = 0;
};

// Runs the stages on the local executor (child processes of this binary,
// pipeline/executor.hpp), up to `jobs` at a time
// (a stage starts once the stages it reads are finished; the costliest ready
// stage first); their output goes to OUT/logs/<stage>.log, one progress line
// per stage to stderr. When one fails, no other starts, the running ones
// finish (their work is kept for the rerun), then an error names the first
// failed stage and its log.
PipelineResult run_pipeline(const std::vector<Stage>& stages, const std::filesystem::path& out, int jobs = 1);

// One stage of the plan, on inputs that are already done, with the same caching
// and ledger as run_pipeline: what one Slurm job of `run|grid --executor slurm`
// runs (`--stage-job NAME`). An input that is not done is an error, never run
// here: its own job makes it, and several jobs reading one input must not race
// to make it.
PipelineResult run_stage_job(const std::vector<Stage>& stages, const std::string& name,
                             const std::filesystem::path& out);

// Where each stage of a run directory stands, read from its files alone (runs
// nothing, writes nothing): for `run --status` on a run that takes hours.
struct StageStatus {
  enum State { Done, Kept, Started, Stale, Pending };
  State state = Pending;  // Kept: finished, its output removed (a run restored from records),
                          // made again only if a stage that reads it has to run; Started: begun
                          // under the current key, unfinished (a rerun resumes it); Stale:
                          // finished under other inputs or options
  double seconds = 0, peak_rss_mib = 0;  // of a Done stage, when it ran through run_pipeline
  std::string failure;  // of a stage not done whose last attempt failed: "exit 3", "Slurm job 12 TIMEOUT (TimeLimit)"
};
std::vector<StageStatus> pipeline_status(const std::vector<Stage>& stages, const std::filesystem::path& out);
const char* state_name(StageStatus::State s);

std::string format_duration(double secs);  // "8.5s", "4m07s", "3h02m"

}  // namespace medforget
