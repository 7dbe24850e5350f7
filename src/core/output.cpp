#include "core/output.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/manifest.hpp"
#include "core/progress.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

fs::path canonical_of(const fs::path& p) {
  std::error_code ec;
  fs::path c = fs::weakly_canonical(fs::absolute(p), ec);
  if (ec) c = fs::absolute(p).lexically_normal();
  if (!c.has_filename() && c.has_relative_path()) c = c.parent_path();  // "dir/" names "dir"
  return c;
}

// True when `inner` is `outer` or lies under it.
bool within(const fs::path& inner, const fs::path& outer) {
  auto i = inner.begin(), o = outer.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (o->empty()) continue;  // a trailing separator
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

// The kind of a medforget directory, or "" when it is not one.
std::string medforget_kind(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_regular_file(dir / "manifest.json", ec)) {
    try {
      Json m = read_json(dir / "manifest.json");
      if (m.is_object() && m.value("format", "") == "medforget-stage" && m.contains("stage") &&
          m.at("stage").is_string())
        return m.at("stage").get<std::string>();
    } catch (const std::exception&) {
    }
    return "";
  }
  if (fs::is_regular_file(dir / "run_config.json", ec)) return "run";
  return "";
}

std::string holder_text() {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  std::time_t t = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return "pid " + std::to_string(::getpid()) + " on " + host + " since " + when + ": " + command_line();
}

std::string read_fd(int fd) {
  std::string s;
  char buf[1024];
  ::lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) s.append(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

}  // namespace

std::string describe_output(const fs::path& out) {
  std::error_code ec;
  auto st = fs::symlink_status(out, ec);
  if (ec || !fs::exists(st)) return "nothing";
  if (fs::is_symlink(st)) return "a symbolic link";
  if (!fs::is_directory(st)) return "a file";
  if (fs::directory_iterator(out, ec) == fs::directory_iterator()) return "an empty directory";
  std::string kind = medforget_kind(out);
  if (!kind.empty()) return "a medforget " + kind + " directory";
  return "a directory of files medforget did not make";
}

void check_not_an_input(const fs::path& path, const std::vector<fs::path>& inputs, const std::string& who) {
  const fs::path o = canonical_of(path);
  for (const auto& in : inputs) {
    if (in.empty()) continue;
    std::error_code ec;
    if (!fs::exists(in, ec)) continue;
    const fs::path i = canonical_of(in);
    if (within(i, o))
      fail(who + (i == o ? "is " : "holds ") + in.string() +
           ", an input of this command; writing there would destroy it (choose a new path; --force does not "
           "lift this rule)");
    if (within(o, i))
      fail(who + "lies inside " + in.string() +
           ", an input of this command; writing there would change it (choose a path outside it)");
  }
}

void check_output_path(const fs::path& out, const OutputSpec& spec) {
  const std::string who = spec.command + ": --out " + out.string() + ": ";
  if (out.empty()) fail(spec.command + ": --out is empty");
  const fs::path o = canonical_of(out);
  if (o == o.root_path()) fail(who + "is the file system's root; choose a new directory");
  check_not_an_input(out, spec.inputs, who);
  std::error_code ec;
  auto st = fs::symlink_status(out, ec);
  if (ec || !fs::exists(st)) return;  // a new path
  if (spec.file) {
    if (fs::is_regular_file(st) && spec.force) return;
    fail(who + "is already " + describe_output(out) +
         (fs::is_regular_file(st) ? "; choose a new path, or give --force to replace it" : "; choose a new path"));
  }
  if (fs::is_symlink(st) || !fs::is_directory(st))
    fail(who + "is " + describe_output(out) + ", not a directory medforget made; choose a new path");
  if (fs::directory_iterator(out, ec) == fs::directory_iterator()) return;  // empty: the user made it for us
  const std::string kind = medforget_kind(out);
  if (kind.empty())
    fail(who + "is " + describe_output(out) +
         " (it carries no medforget manifest); it is left alone: choose a new path");
  if (kind != spec.kind && !spec.force)
    fail(who + "is a medforget " + kind + " directory, and this command writes " + spec.kind +
         " directories; choose a new path, or give --force to replace it");
}

fs::path lock_path_for(const fs::path& out) {
  const fs::path o = canonical_of(out);
  return o.parent_path() / ("." + o.filename().string() + ".lock");
}

OutputLock::OutputLock(const fs::path& out) {
  const fs::path lp = lock_path_for(out);
  std::error_code ec;
  fs::create_directories(lp.parent_path(), ec);
  // Retry when the file we locked was removed by a holder that was releasing it.
  for (int attempt = 0; attempt < 8; ++attempt) {
    int fd = ::open(lp.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail(out.string() + ": cannot create its lock " + lp.string() + " (" + std::strerror(errno) + ")");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      std::string holder = read_fd(fd);
      ::close(fd);
      if (err != EWOULDBLOCK)
        fail(out.string() + ": cannot lock " + lp.string() + " (" + std::strerror(err) + ")");
      fail(out.string() + ": in use by another medforget process (" + (holder.empty() ? "holder unknown" : holder) +
           "); wait for it to finish or stop it (lock: " + lp.string() + ")");
    }
    struct stat a {}, b {};
    if (::fstat(fd, &a) == 0 && ::stat(lp.c_str(), &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
      const std::string prev = read_fd(fd);
      if (!prev.empty())
        log_warn(out.string() + ": taking over a stale lock (" + prev + "; that process is gone)");
      const std::string me = holder_text() + "\n";
      if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size()))
        log_warn(lp.string() + ": cannot record the lock's holder (" + std::strerror(errno) + ")");
      fd_ = fd;
      path_ = lp;
      return;
    }
    ::close(fd);
  }
  fail(out.string() + ": cannot take the lock " + lp.string() + " (it keeps being replaced)");
}

void OutputLock::release() {
  if (fd_ < 0) return;
  ::unlink(path_.c_str());  // while still holding it: a waiter re-checks the inode
  ::close(fd_);
  fd_ = -1;
}

OutputLock::~OutputLock() { release(); }

OutputLock::OutputLock(OutputLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }

OutputLock& OutputLock::operator=(OutputLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

OutputLock claim_output(const fs::path& out, const OutputSpec& spec) {
  check_output_path(out, spec);
  OutputLock lock(out);
  check_output_path(out, spec);  // again under the lock: another process may have written there meanwhile
  return lock;
}

}  // namespace medforget
