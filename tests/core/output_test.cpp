// The output rules (nothing a command did not make is replaced, never an
// input), the per-output lock, the one range check of numeric options and the
// one validation of identifiers that become paths.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>

#include "core/fs.hpp"
#include "core/ids.hpp"
#include "core/json.hpp"
#include "core/manifest.hpp"
#include "core/output.hpp"
#include "core/ranges.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

void make_stage(const fs::path& dir, const std::string& kind) {
  fs::create_directories(dir);
  write_atomic(dir / "summary.json", std::string("{}"));
  write_manifest(dir, kind, Json::object(), Json::object());
}

}  // namespace

TEST(OutputRules, NewEmptyAndSameKindDirectoriesAreWritable) {
  test::TempDir t;
  check_output_path(t / "new", {"eval", "eval", {}});
  fs::create_directories(t / "empty");
  check_output_path(t / "empty", {"eval", "eval", {}});
  make_stage(t / "old-eval", "eval");
  check_output_path(t / "old-eval", {"eval", "eval", {}});  // a re-run
}

TEST(OutputRules, AnotherKindNeedsForceAndUserFilesAreNeverReplaced) {
  test::TempDir t;
  make_stage(t / "ckpt", "checkpoint");
  test::expect_contains(test::error_of([&] { check_output_path(t / "ckpt", {"eval", "eval", {}}); }),
                        "is a medforget checkpoint directory, and this command writes eval directories");
  check_output_path(t / "ckpt", {"eval", "eval", {}, true});

  fs::create_directories(t / "mine");
  write_atomic(t / "mine/notes.txt", std::string("keep me"));
  for (bool force : {false, true}) {
    const std::string e = test::error_of([&] { check_output_path(t / "mine", {"eval", "eval", {}, force}); });
    test::expect_contains(e, (t / "mine").string());
    test::expect_contains(e, "medforget did not make");
  }
  write_atomic(t / "file.txt", std::string("x"));
  test::expect_contains(test::error_of([&] { check_output_path(t / "file.txt", {"eval", "eval", {}, true}); }),
                        "is a file, not a directory medforget made");
  fs::create_directory_symlink(t / "ckpt", t / "link");
  test::expect_contains(test::error_of([&] { check_output_path(t / "link", {"eval", "checkpoint", {}}); }),
                        "symbolic link");
  EXPECT_EQ(read_text(t / "mine/notes.txt"), "keep me");
}

TEST(OutputRules, AnInputIsNeverAnOutputEvenWithForce) {
  test::TempDir t;
  make_stage(t / "bench", "benchmark");
  make_stage(t / "runs/model", "checkpoint");
  for (bool force : {false, true}) {
    // The same path, a spelling of it, a directory holding it, a place inside it.
    test::expect_contains(
        test::error_of([&] { check_output_path(t / "bench", {"eval", "eval", {t / "bench"}, force}); }),
        "an input of this command");
    test::expect_contains(
        test::error_of([&] { check_output_path(t / "x/../bench/", {"eval", "benchmark", {t / "bench"}, force}); }),
        "an input of this command");
    test::expect_contains(
        test::error_of([&] { check_output_path(t / "runs", {"unlearn", "checkpoint", {t / "runs/model"}, force}); }),
        "holds");
    test::expect_contains(
        test::error_of([&] { check_output_path(t / "bench/eval", {"eval", "eval", {t / "bench"}, force}); }),
        "lies inside");
  }
  // A sibling whose name starts with the input's is not inside it.
  check_output_path(t / "bench2", {"eval", "eval", {t / "bench"}});
  check_output_path(t / "f.model", {"tokenizer train", "tokenizer", {t / "bench"}, false, true});
  write_atomic(t / "f.model", std::string("x"));
  test::expect_contains(
      test::error_of([&] { check_output_path(t / "f.model", {"tokenizer train", "tokenizer", {}, false, true}); }),
      "--force");
  check_output_path(t / "f.model", {"tokenizer train", "tokenizer", {}, true, true});
}

TEST(OutputLock, ASecondHolderFailsNamingTheFirstAndReleaseFreesIt) {
  test::TempDir t;
  set_command_line(2, std::array<char*, 2>{const_cast<char*>("medforget"), const_cast<char*>("eval")}.data());
  {
    OutputLock a(t / "out");
    EXPECT_TRUE(fs::exists(t / ".out.lock"));
    const std::string e = test::error_of([&] { OutputLock b(t / "out"); });
    test::expect_contains(e, "in use by another medforget process");
    test::expect_contains(e, "pid " + std::to_string(::getpid()));
    test::expect_contains(e, "medforget eval");
    OutputLock other(t / "other");  // another output is independent
  }
  EXPECT_FALSE(fs::exists(t / ".out.lock"));
  OutputLock again(t / "out");
}

TEST(OutputLock, AStaleLockOfAKilledProcessIsTakenOver) {
  test::TempDir t;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    OutputLock held(t / "out");
    char c = 1;
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  // While the child lives, its lock holds.
  test::expect_contains(test::error_of([&] { OutputLock b(t / "out"); }), "pid " + std::to_string(child));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(fs::exists(t / ".out.lock"));  // left behind by the kill
  OutputLock taken(t / "out");
  EXPECT_NE(read_text(t / ".out.lock").find("pid " + std::to_string(::getpid())), std::string::npos);
}

TEST(Ranges, EveryNumericOptionIsCheckedWithItsRangeNamed) {
  test::expect_contains(test::error_of([] { check_option("finetune", "epochs", 0); }),
                        "finetune: epochs must be >= 1, got 0");
  test::expect_contains(test::error_of([] { check_option("finetune", "grad_clip", -1); }), "grad_clip must be > 0");
  test::expect_contains(test::error_of([] { check_option("finetune", "warmup", -2); }), "warmup must be in [0, 1)");
  test::expect_contains(test::error_of([] { check_option("finetune", "checkpoint_every", -1); }),
                        "checkpoint_every must be >= 0");
  test::expect_contains(test::error_of([] { check_option("eval", "max_new_tokens", 0); }),
                        "max_new_tokens must be >= 1");
  test::expect_contains(test::error_of([] { check_option("x", "lr", std::nan("")); }), "lr must be > 0, got nan");
  test::expect_contains(test::error_of([] { check_option("x", "lr", Json("1e-3")); }), "must be a number");
  test::expect_contains(test::error_of([] { option_range("no_such_option"); }), "no range");
  check_option("finetune", "warmup", 0.0);
  check_option("finetune", "checkpoint_every", 0);
  check_option("mia", "k", 1.0);
}

TEST(Ids, PathComponentsStayInsideTheirDirectory) {
  for (const char* ok : {"study_chest_xray_001", "p10000032", "inst-03", "a.b"}) EXPECT_TRUE(is_path_id(ok)) << ok;
  for (const char* bad : {"", ".", "..", "../x", "a/b", ".hidden", "-rf", "a b", "a\\b", "x\n"})
    EXPECT_FALSE(is_path_id(bad)) << bad;
  EXPECT_FALSE(is_path_id(std::string(129, 'a')));
  test::expect_contains(test::error_of([] { check_path_id("../../etc", "study", "corpus.json"); }),
                        "corpus.json: study id '../../etc' cannot name a file");
  check_relative_path("images/study_1.png", "x");
  check_relative_path("study_1/findings", "x");
  for (const char* bad : {"../x.png", "/etc/passwd", "images//a.png", "images/../../a.png", "images/", ""})
    EXPECT_THROW(check_relative_path(bad, "items.jsonl:3: field 'image'"), Error) << bad;
}
