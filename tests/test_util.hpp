#pragma once
// Shared test helpers: a self-deleting temp directory and running the CLI.
#include <filesystem>
#include <string>

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

}  // namespace medforget::test
