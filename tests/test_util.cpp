#include "test_util.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace medforget::test {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "medforget-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

CliResult run_cli(const std::string& args) { return run_command(std::string(MEDFORGET_BIN) + " " + args); }

CliResult run_command(const std::string& command) {
  std::string cmd = command + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

const TrainedTiny& trained_tiny() {
  static TrainedTiny cached;
  if (!cached.model.empty()) return cached;
  // Keyed by the binary (a rebuilt medforget never reuses a stale model) and by
  // the recipe below.
  struct stat st {};
  if (stat(MEDFORGET_BIN, &st) != 0) throw std::runtime_error(std::string(MEDFORGET_BIN) + ": not built");
  const std::filesystem::path root = MEDFORGET_TEST_CACHE;
  std::filesystem::create_directories(root);
  const auto dir = root / ("tiny-stop-resume-" + std::to_string(st.st_size) + "-" + std::to_string(st.st_mtime));
  int fd = open((root / "lock").c_str(), O_CREAT | O_RDWR, 0644);
  if (fd < 0 || flock(fd, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + (root / "lock").string());
  TrainedTiny t{dir / "bench", dir / "model", dir / "finetune-stop.log", dir / "finetune-resume.log"};
  if (!std::filesystem::exists(t.model / "manifest.json")) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    auto r = run_cli("data build --preset tiny --seed 5 --out " + t.bench.string());
    const std::string ft = "finetune --bench " + t.bench.string() + " --out " + t.model.string() +
                           " --preset tiny --epochs 40 --checkpoint-every 20";
    if (r.exit_code == 0) {
      r = run_cli(ft + " --stop-after 40");
      std::ofstream(t.stop_log) << r.output;
    }
    if (r.exit_code == 0) {
      r = run_cli(ft);
      std::ofstream(t.resume_log) << r.output;
    }
    if (r.exit_code != 0) {
      flock(fd, LOCK_UN);
      close(fd);
      throw std::runtime_error("building the trained tiny fixture failed:\n" + r.output);
    }
  }
  flock(fd, LOCK_UN);
  close(fd);
  cached = t;
  return cached;
}

}  // namespace medforget::test
