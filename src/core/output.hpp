#pragma once
// The rules every command follows for its output path, and the lock that keeps
// one process per output.
//
// A command writes into a new path, or replaces a directory that carries a
// medforget manifest of its own kind (a re-run); never one of its own inputs (nor
// a directory holding one, nor a place inside one), never a user's file or
// directory. `force` lets a command replace a medforget directory of another
// kind; it never lifts the input rule.
#include <filesystem>
#include <string>
#include <vector>

namespace medforget {

struct OutputSpec {
  std::string command;                          // "eval", for messages
  std::string kind;                             // manifest stage a re-run replaces; "run" for run directories
  std::vector<std::filesystem::path> inputs;    // every path the command reads (missing ones are ignored)
  bool force = false;                           // also replace a medforget directory of another kind
  bool file = false;                            // the output is a file, not a directory
};

// What sits at an output path: nothing, an empty directory, a medforget
// directory of some kind ("eval", "checkpoint", ..., "run"), or something else.
std::string describe_output(const std::filesystem::path& out);

// Throws Error naming the path and the rule it breaks.
void check_output_path(const std::filesystem::path& out, const OutputSpec& spec);
// The input rule alone, for a second output of a command (`unlearn --dump`):
// `path` is not an input, does not hold one and does not lie inside one.
// `who` names the command and flag for the message ("unlearn: --dump X: ").
void check_not_an_input(const std::filesystem::path& path, const std::vector<std::filesystem::path>& inputs,
                        const std::string& who);

// An advisory lock on an output path, held for the object's lifetime: the file
// "<parent>/.<name>.lock" with an flock on it and its holder (pid, host, start
// time, command line) inside. A second process fails at once, naming the holder.
// The kernel drops the flock of a killed process, so its stale lock file is taken
// over (and said so).
class OutputLock {
 public:
  OutputLock() = default;
  explicit OutputLock(const std::filesystem::path& out);
  ~OutputLock();
  OutputLock(OutputLock&& o) noexcept;
  OutputLock& operator=(OutputLock&& o) noexcept;
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  void release();
  int fd_ = -1;
  std::filesystem::path path_;
};

std::filesystem::path lock_path_for(const std::filesystem::path& out);

// check_output_path, then the lock: what every command does before any work.
OutputLock claim_output(const std::filesystem::path& out, const OutputSpec& spec);

}  // namespace medforget
