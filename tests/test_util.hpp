#pragma once
// Shared test helpers: a self-deleting temp directory and running the CLI.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "core/error.hpp"

namespace medforget::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

 private:
  std::filesystem::path path_;
};

struct CliResult {
  int exit_code;
  std::string output;  // stdout + stderr
};
// Runs the built `medforget` binary with the given argument string.
CliResult run_cli(const std::string& args);
// Runs a shell command line.
CliResult run_command(const std::string& command);

// A tiny benchmark and a tiny model fine-tuned on it until it memorises it
// (40 epochs), built once per medforget binary and shared by every test
// process through a locked cache in the build tree. The fine-tuning is
// stopped after 40 steps and resumed by the same command, as a user would
// after a kill; both runs' output is kept for the tests of that path.
struct TrainedTiny {
  std::filesystem::path bench, model;
  std::filesystem::path stop_log, resume_log;
};
const TrainedTiny& trained_tiny();

// The message of the medforget::Error that f throws (a test failure if none).
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected medforget::Error";
  return "";
}

inline void expect_contains(const std::string& msg, const std::string& part) {
  EXPECT_NE(msg.find(part), std::string::npos) << "message: " << msg << "\nexpected to contain: " << part;
}

}  // namespace medforget::test
