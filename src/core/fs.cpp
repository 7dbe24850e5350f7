#include "core/fs.hpp"

#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_EXCHANGE
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace medforget {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(p.string() + ": cannot open for reading (" + std::strerror(errno) + ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::string s = read_text(p);
  return {s.begin(), s.end()};
}

static void write_all(int fd, const char* data, size_t n, const fs::path& p) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail(p.string() + ": write failed (" + std::strerror(errno) + ")");
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
}

void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

static std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  return ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

void write_atomic_parts(const fs::path& p, const std::vector<std::pair<const void*, size_t>>& parts) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  fs::path tmp = p;
  tmp += unique_suffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail(tmp.string() + ": cannot create (" + std::strerror(errno) + ")");
  try {
    for (const auto& [data, n] : parts) write_all(fd, static_cast<const char*>(data), n, tmp);
    if (::fsync(fd) != 0) fail(tmp.string() + ": fsync failed (" + std::strerror(errno) + ")");
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), p.c_str()) != 0) {
    ::unlink(tmp.c_str());
    fail(p.string() + ": rename failed (" + std::strerror(errno) + ")");
  }
  fsync_dir(p.parent_path());
}

void write_atomic(const fs::path& p, const std::string& data) { write_atomic_parts(p, {{data.data(), data.size()}}); }
void write_atomic(const fs::path& p, const std::vector<uint8_t>& data) {
  write_atomic_parts(p, {{data.data(), data.size()}});
}

// Staging directories of runs that were killed ("<name>.tmp-<pid>-<n>" whose
// process is gone) are removed before a new one starts.
static void remove_stale_staging(const fs::path& target) {
  fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(parent, ec)) return;
  const std::string prefix = target.filename().string() + ".tmp-";
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    long pid = std::atol(name.c_str() + prefix.size());
    if (pid > 0 && pid != ::getpid() && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
      fs::remove_all(e.path(), ec);
  }
}

StagingDir::StagingDir(fs::path target) : target_(std::move(target)) {
  if (target_.filename().empty()) target_ = target_.parent_path();
  remove_stale_staging(target_);
  tmp_ = target_;
  tmp_ += unique_suffix();
  if (target_.has_parent_path()) fs::create_directories(target_.parent_path());
  fs::remove_all(tmp_);
  fs::create_directories(tmp_);
}

StagingDir::~StagingDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(tmp_, ec);
  }
}

void StagingDir::commit() {
  // Swap the new directory in with one atomic exchange, so the target is never
  // missing or a mix of both, even if the process dies right here.
  if (fs::exists(target_)) {
    if (::renameat2(AT_FDCWD, tmp_.c_str(), AT_FDCWD, target_.c_str(), RENAME_EXCHANGE) != 0)
      fail(target_.string() + ": atomic exchange failed (" + std::strerror(errno) + ")");
    fsync_dir(target_.parent_path());
    committed_ = true;
    std::error_code ec;
    fs::remove_all(tmp_, ec);  // now holds the previous content
    return;
  }
  fs::rename(tmp_, target_);
  fsync_dir(target_.parent_path());
  committed_ = true;
}

}  // namespace medforget
