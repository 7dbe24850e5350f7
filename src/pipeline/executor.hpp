#pragma once
// Where a run's stages execute: starting a stage, watching for stages to end and
// cancelling one, behind one small interface. The scheduler (run_pipeline)
// decides what runs when, from caching keys and dependencies; an executor only
// runs what it is given. The local executor runs stages as child processes of
// this machine (`run|grid --jobs N`); the Slurm executor (pipeline/slurm.hpp)
// submits them as batch jobs, each waiting in the queue for the ones it reads.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace medforget {

using StageId = int64_t;  // an executor's handle on a started stage

struct StageLaunch {
  std::string name;                  // the stage ("unlearn/chip-patient")
  std::vector<std::string> args;     // its medforget arguments, "$OUT" expanded
  std::filesystem::path log;         // where its output goes (appended)
  std::vector<StageId> after;        // started stages that must succeed before it begins
                                     // (a queueing executor's; the local one gets none)
};

struct StageEnd {
  StageId id = -1;
  int code = 0;           // exit status; 128 + signal when killed
  long max_rss_kib = 0;   // the stage's peak resident set, when the executor knows it (else 0)
  std::string reason;     // why it ended, in the executor's words ("TIMEOUT: TimeLimit"), when known
};

class StageExecutor {
 public:
  virtual ~StageExecutor() = default;
  // Starts one stage. Error when it cannot be started.
  virtual StageId start(const StageLaunch& stage) = 0;
  // Blocks until a started stage ends and returns how it ended.
  virtual StageEnd wait_any() = 0;
  // Asks a started stage to stop (it then ends through wait_any, killed).
  virtual void cancel(StageId id) = 0;
};

// Stages as child processes running `binary` (this medforget binary by default),
// killed with the process that started them.
std::unique_ptr<StageExecutor> make_local_executor(const std::filesystem::path& binary = "/proc/self/exe");

}  // namespace medforget
