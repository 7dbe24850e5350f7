#pragma once
// Running another program and reading what it says: the cluster's command-line
// tools (sbatch, squeue, scontrol, scancel) are its interface.
#include <string>
#include <vector>

namespace medforget {

struct ProcessResult {
  int code = 0;  // exit status; 128 + signal when killed; 127 when it could not be started
  std::string out, err;
};

// Runs argv[0] (searched on PATH) with the arguments, stdin from /dev/null, and
// returns its exit status and output. Never throws for a failing program.
ProcessResult run_process(const std::vector<std::string>& argv);

// Whether `program` is an executable on PATH.
bool on_path(const std::string& program);

}  // namespace medforget
