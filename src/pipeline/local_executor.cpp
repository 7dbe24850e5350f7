// The local executor: each stage is a child process of this binary.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "core/error.hpp"
#include "pipeline/executor.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

class LocalExecutor final : public StageExecutor {
 public:
  explicit LocalExecutor(fs::path binary) : binary_(std::move(binary)) {}

  // Everything is prepared before fork(): the child only redirects and execs.
  StageId start(const StageLaunch& stage) override {
    if (!stage.after.empty())
      fail("run: the local executor starts '" + stage.name + "' only once the stages it reads are done (a scheduler bug)");
    const fs::path& log = stage.log;
    fs::create_directories(log.parent_path());
    std::string self = "medforget", bin = binary_.string();
    std::vector<std::string> copy = stage.args;
    std::vector<char*> argv{self.data()};
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log_name = log.string();
    const pid_t pid = fork();
    if (pid < 0) fail("run: fork failed: " + std::string(std::strerror(errno)));
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed run takes its stages with it
      int fd = open(log_name.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      execv(bin.c_str(), argv.data());
      _exit(127);
    }
    running_.insert(pid);
    return pid;
  }

  StageEnd wait_any() override {
    if (running_.empty()) fail("run: no stage is running (a scheduler bug)");
    for (;;) {
      int status = 0;
      struct rusage ru {};
      const pid_t pid = wait4(-1, &status, 0, &ru);
      if (pid < 0) {
        if (errno == EINTR) continue;
        fail("run: wait4 failed: " + std::string(std::strerror(errno)));
      }
      if (!running_.erase(pid)) continue;  // another child of this process, not a stage
      return {pid, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), ru.ru_maxrss, {}};
    }
  }

  void cancel(StageId id) override {
    if (running_.count(static_cast<pid_t>(id))) kill(static_cast<pid_t>(id), SIGTERM);
  }

 private:
  fs::path binary_;
  std::set<pid_t> running_;
};

}  // namespace

std::unique_ptr<StageExecutor> make_local_executor(const fs::path& binary) {
  return std::make_unique<LocalExecutor>(binary);
}

}  // namespace medforget
