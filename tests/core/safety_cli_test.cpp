// Through the CLI, as a user would: no command destroys what it did not make
// or its own input, one process per output, numeric options and target lists
// are checked before any work, an edited benchmark is refused, and ids from
// input files cannot write outside --out.
#include <gtest/gtest.h>

#include <fstream>

#include "core/fs.hpp"
#include "core/json.hpp"
#include "core/output.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

// A tiny benchmark built once per test.
fs::path tiny_bench(const test::TempDir& t) {
  auto r = test::run_cli("data build --preset tiny --seed 3 --out " + (t / "bench").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return t / "bench";
}

std::string digest_of(const fs::path& dir) { return read_json(dir / "manifest.json").at("content_digest"); }

void expect_refused(const test::CliResult& r, const std::string& part) {
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(part), std::string::npos) << r.output << "\nexpected: " << part;
}

}  // namespace

TEST(SafetyCli, NoCommandReplacesItsOwnInput) {
  test::TempDir t;
  const fs::path bench = tiny_bench(t);
  const std::string before = digest_of(bench);
  const std::string b = bench.string();
  expect_refused(test::run_cli("eval --model " + b + " --bench " + b + " --level patient --out " + b),
                 "an input of this command");
  expect_refused(test::run_cli("finetune --bench " + b + " --preset tiny --out " + b + " --force"),
                 "--force does not lift this rule");
  expect_refused(test::run_cli("unlearn --model " + b + " --bench " + b + " --level patient --method chip --out " + b),
                 "an input of this command");
  expect_refused(test::run_cli("attack --model " + b + " --bench " + b + " --level patient --out " + b + "/attack"),
                 "lies inside");
  auto r = test::run_cli("data synth --preset tiny --out " + (t / "corpus").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string corpus_digest = digest_of(t / "corpus");
  expect_refused(test::run_cli("data build --corpus " + (t / "corpus").string() + " --out " + (t / "corpus").string()),
                 "an input of this command");
  EXPECT_EQ(digest_of(bench), before);
  EXPECT_EQ(digest_of(t / "corpus"), corpus_digest);
  EXPECT_EQ(r.exit_code, 0);
}

TEST(SafetyCli, UserDirectoriesAndFilesAreNeverReplaced) {
  test::TempDir t;
  fs::create_directories(t / "home");
  write_atomic(t / "home/thesis.tex", std::string("years of work"));
  write_atomic(t / "plain.txt", std::string("a file"));
  // --out "$PWD": the working directory holds the user's files.
  auto r = test::run_command("cd " + (t / "home").string() + " && " + std::string(MEDFORGET_BIN) +
                             " data synth --preset tiny --out \"$PWD\" 2>&1");
  expect_refused(r, "medforget did not make");
  expect_refused(test::run_cli("data synth --preset tiny --force --out " + (t / "home").string()),
                 "medforget did not make");
  expect_refused(test::run_cli("data build --preset tiny --out " + (t / "plain.txt").string()), "is a file");
  EXPECT_EQ(read_text(t / "home/thesis.tex"), "years of work");
  EXPECT_EQ(read_text(t / "plain.txt"), "a file");
  // A re-run replaces its own kind; another kind needs --force.
  ASSERT_EQ(test::run_cli("data synth --preset tiny --out " + (t / "c").string()).exit_code, 0);
  ASSERT_EQ(test::run_cli("data synth --preset tiny --seed 2 --out " + (t / "c").string()).exit_code, 0);
  expect_refused(test::run_cli("data build --preset tiny --out " + (t / "c").string()),
                 "is a medforget corpus directory, and this command writes benchmark directories");
  r = test::run_cli("data build --preset tiny --force --out " + (t / "c").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_json(t / "c/manifest.json").at("stage"), "benchmark");
}

TEST(SafetyCli, ASecondProcessOnTheSameOutputFailsAtOnce) {
  test::TempDir t;
  OutputLock held(t / "corpus");  // as another medforget process would hold it
  auto r = test::run_cli("data synth --preset tiny --out " + (t / "corpus").string());
  expect_refused(r, "in use by another medforget process");
  EXPECT_NE(r.output.find("pid " + std::to_string(::getpid())), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(t / "corpus"));
  fs::create_directories(t / "run");
  OutputLock run_held(t / "run");
  expect_refused(test::run_cli("run --preset tiny --out " + (t / "run").string()), "in use by another medforget process");
}

TEST(SafetyCli, NumericOptionsAndTargetListsAreCheckedBeforeAnyWork) {
  test::TempDir t;
  const fs::path bench = tiny_bench(t);
  const std::string b = bench.string(), m = (t / "model").string();
  const std::string ft = "finetune --bench " + b + " --preset tiny --out " + m;
  expect_refused(test::run_cli(ft + " --epochs 0"), "epochs must be >= 1, got 0");
  expect_refused(test::run_cli(ft + " --batch-size -4"), "batch_size must be >= 1");
  expect_refused(test::run_cli(ft + " --lr 0"), "lr must be > 0");
  expect_refused(test::run_cli(ft + " --grad-clip -1"), "grad_clip must be > 0");
  expect_refused(test::run_cli(ft + " --warmup -2"), "warmup must be in [0, 1)");
  expect_refused(test::run_cli(ft + " --checkpoint-every -1"), "checkpoint_every must be >= 0");
  EXPECT_FALSE(fs::exists(t / "model"));
  EXPECT_FALSE(fs::exists(t / "model.partial"));
  const std::string ul = "unlearn --model " + (t / "none").string() + " --bench " + b +
                         " --level patient --out " + (t / "u").string();
  expect_refused(test::run_cli(ul + " --method graddiff --opt grad_clip=-1"), "grad_clip must be > 0");
  expect_refused(test::run_cli(ul + " --method chip --opt k=1.5"), "k must be in (0, 1]");
  expect_refused(test::run_cli(ul + " --method chip --targets ''"), "names no node");
  expect_refused(test::run_cli(ul + " --method chip --targets ,"), "names no node");
  expect_refused(test::run_cli(ul + " --method chip --targets ../../etc"), "must stay inside");
  expect_refused(test::run_cli("eval --model " + (t / "none").string() + " --bench " + b +
                               " --level patient --max-new-tokens 0 --out " + (t / "e").string()),
                 "max_new_tokens must be >= 1, got 0");
  write_atomic(t / "cfg.json", std::string(R"({"preset": "tiny", "finetune": {"epochs": -3}})"));
  expect_refused(test::run_cli("run --config " + (t / "cfg.json").string() + " --dry-run --out " +
                               (t / "run").string()),
                 "epochs must be >= 1, got -3");
  write_atomic(t / "cfg2.json", std::string(R"({"preset": "tiny", "methods": [{"name": "../x", "method": "chip"}]})"));
  expect_refused(test::run_cli("run --config " + (t / "cfg2.json").string() + " --dry-run --out " +
                               (t / "run").string()),
                 "cannot name a file");
}

TEST(SafetyCli, ABenchmarkEditedAfterItsBuildIsRefused) {
  test::TempDir t;
  const fs::path bench = tiny_bench(t);
  // A fresh cache, so the test sees both the full check and the cached one.
  const std::string env = "MEDFORGET_CACHE=" + (t / "cache").string() + " ";
  const std::string eval = env + MEDFORGET_BIN + " eval --model " + (t / "none").string() + " --bench " +
                           bench.string() + " --level patient --out " + (t / "e").string() + " 2>&1";
  auto r = test::run_command(eval);
  EXPECT_EQ(r.output.find("digest"), std::string::npos) << r.output;  // fails later, on the missing model
  EXPECT_TRUE(fs::exists(t / "cache/digests"));
  // Five items kept of the forget set: the digest no longer matches.
  const fs::path f = bench / "levels/patient/forget.jsonl";
  std::string text = read_text(f), kept;
  for (int i = 0, pos = 0; i < 5; ++i) {
    size_t nl = text.find('\n', static_cast<size_t>(pos));
    kept += text.substr(static_cast<size_t>(pos), nl + 1 - static_cast<size_t>(pos));
    pos = static_cast<int>(nl + 1);
  }
  write_atomic(f, kept);
  r = test::run_command(eval);
  expect_refused(r, "content digest mismatch");
  expect_refused(test::run_command(env + MEDFORGET_BIN + " finetune --preset tiny --bench " + bench.string() +
                                   " --out " + (t / "m").string() + " 2>&1"),
                 "content digest mismatch");
}

TEST(SafetyCli, IdsFromACorpusCannotWriteOutsideOut) {
  test::TempDir t;
  ASSERT_EQ(test::run_cli("data synth --preset tiny --out " + (t / "corpus").string()).exit_code, 0);
  Json c = read_json(t / "corpus/corpus.json");
  c["institutions"][0]["patients"][0]["studies"][0]["id"] = "../../escaped";
  write_json(t / "corpus/corpus.json", c);
  fs::remove(t / "corpus/manifest.json");  // a hand-made corpus carries no manifest
  auto r = test::run_cli("data build --corpus " + (t / "corpus").string() + " --preset tiny --out " +
                         (t / "out/bench").string());
  expect_refused(r, "id '../../escaped' cannot name a file");
  EXPECT_FALSE(fs::exists(t / "escaped.png"));
  EXPECT_FALSE(fs::exists(t / "out/escaped.png"));
  EXPECT_FALSE(fs::exists(t / "out/bench"));
}

TEST(SafetyCli, SecondOutputsNamesAndLimitsAreCheckedToo) {
  test::TempDir t;
  const fs::path bench = tiny_bench(t);
  const std::string b = bench.string();
  const std::string before = digest_of(bench);
  const std::string ul = "unlearn --model " + (t / "none").string() + " --bench " + b +
                         " --level patient --method chip --out " + (t / "u").string();
  expect_refused(test::run_cli(ul + " --dump " + b + "/audit"), "--dump " + b + "/audit: lies inside");
  expect_refused(test::run_cli(ul + " --name ../evil"), "variant id '../evil' cannot name a file");
  expect_refused(test::run_cli(ul + " --seed -1"), "--seed");
  expect_refused(test::run_cli("eval --model " + (t / "none").string() + " --bench " + b +
                               " --level patient --limit -1 --out " + (t / "e").string()),
                 "limit must be >= 0, got -1");
  expect_refused(test::run_cli("finetune --bench " + b + " --preset tiny --seed -1 --out " + (t / "m").string()),
                 "--seed");
  expect_refused(test::run_cli("run --preset tiny --jobs 0 --dry-run --out " + (t / "r").string()),
                 "jobs must be >= 1, got 0");
  expect_refused(test::run_cli("run --config " + t.path().string() + " --dry-run --out " + (t / "r").string()),
                 "is a directory, not a JSON run configuration");
  expect_refused(test::run_cli("frobnicate"), "unknown command 'frobnicate'");
  auto r = test::run_command("MEDFORGET_THREADS=abc " + std::string(MEDFORGET_BIN) + " doctor 2>&1");
  EXPECT_NE(r.output.find("MEDFORGET_THREADS='abc' is not a positive integer"), std::string::npos) << r.output;
  EXPECT_EQ(digest_of(bench), before);
}

TEST(SafetyCli, AnEditThatKeepsSizeAndMtimeIsStillCaught) {
  test::TempDir t;
  const fs::path bench = tiny_bench(t);
  const std::string env = "MEDFORGET_CACHE=" + (t / "cache").string() + " ";
  const std::string tok = env + MEDFORGET_BIN + " tokenizer train --bench " + bench.string() + " --out " +
                          (t / "tok.model").string() + " --force 2>&1";
  ASSERT_EQ(test::run_command(tok).exit_code, 0);  // verified, and cached
  // One byte changed, size kept, mtime put back (as cp -p, rsync -t or tar would).
  const fs::path f = bench / "finetune.jsonl";
  const auto mtime = fs::last_write_time(f);
  std::string text = read_text(f);
  const size_t at = text.find("\"answer\":\"") + 10;
  text[at] = text[at] == 'X' ? 'Y' : 'X';
  { std::ofstream(f, std::ios::binary | std::ios::trunc) << text; }
  fs::last_write_time(f, mtime);
  expect_refused(test::run_command(tok), "content digest mismatch");
}
