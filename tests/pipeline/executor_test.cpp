// The local executor: stages start as child processes writing to their logs,
// end through wait_any with their exit status, and stop when cancelled.
// A shell stands in for the medforget binary (its argv[0] is "medforget").
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "pipeline/executor.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

TEST(LocalExecutor, StartsWritesItsLogAndReportsTheExitStatus) {
  test::TempDir tmp;
  auto ex = make_local_executor("/bin/sh");
  const fs::path log = tmp / "logs" / "stage.log";
  const StageId id = ex->start({"stage", {"-c", "echo to-stdout; echo to-stderr >&2; exit 3"}, log, {}});
  const StageEnd end = ex->wait_any();
  EXPECT_EQ(end.id, id);
  EXPECT_EQ(end.code, 3);
  EXPECT_GT(end.max_rss_kib, 0);
  const std::string text = read_text(log);
  EXPECT_NE(text.find("to-stdout"), std::string::npos) << text;
  EXPECT_NE(text.find("to-stderr"), std::string::npos) << text;
  EXPECT_THROW(ex->wait_any(), Error);  // nothing left running
}

TEST(LocalExecutor, CancelStopsOneStageAndLeavesTheOther) {
  test::TempDir tmp;
  auto ex = make_local_executor("/bin/sh");
  const auto t0 = std::chrono::steady_clock::now();
  const StageId slow = ex->start({"stage", {"-c", "exec sleep 60"}, tmp / "slow.log", {}});
  const StageId quick = ex->start({"stage", {"-c", "sleep 0.2; exit 0"}, tmp / "quick.log", {}});
  const StageEnd first = ex->wait_any();
  EXPECT_EQ(first.id, quick);
  EXPECT_EQ(first.code, 0);
  ex->cancel(slow);
  const StageEnd second = ex->wait_any();
  EXPECT_EQ(second.id, slow);
  EXPECT_EQ(second.code, 128 + SIGTERM);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30.0);
  ex->cancel(slow);  // an ended stage: nothing to do
}

TEST(LocalExecutor, AMissingBinaryEndsWith127) {
  test::TempDir tmp;
  auto ex = make_local_executor(tmp / "no-such-binary");
  ex->start({"stage", {"x"}, tmp / "s.log", {}});
  EXPECT_EQ(ex->wait_any().code, 127);
}
