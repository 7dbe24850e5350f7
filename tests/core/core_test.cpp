#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <thread>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "core/manifest.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "test_util.hpp"

using namespace medforget;

TEST(Digest, Sha256KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, TreeDigestChangesWithContentAndNames) {
  test::TempDir t;
  write_atomic(t / "a.txt", std::string("hello"));
  write_atomic(t / "sub/b.txt", std::string("world"));
  auto d1 = sha256_tree(t.path());
  EXPECT_EQ(d1, sha256_tree(t.path()));
  write_atomic(t / "sub/b.txt", std::string("World"));
  EXPECT_NE(d1, sha256_tree(t.path()));
  write_atomic(t / "manifest.json", std::string("{}"));
  EXPECT_EQ(sha256_tree(t.path(), {"manifest.json"}), sha256_tree(t.path(), {"manifest.json"}));
}

TEST(Rng, SameSeedSameSequenceAndForksIndependent) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
  EXPECT_NE(Rng(42).next(), c.next());
  Rng f1 = Rng(7).fork("x"), f2 = Rng(7).fork("y");
  EXPECT_NE(f1.next(), f2.next());
  // A fork's sequence does not depend on draws made from the parent.
  Rng p(7);
  p.next();
  EXPECT_NE(Rng(7).fork("x").next(), 0u);
}

TEST(Rng, DistributionsInRange) {
  Rng r(1);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    auto k = r.randint(3, 5);
    ASSERT_GE(k, 3);
    ASSERT_LE(k, 5);
    sum += r.normal();
  }
  EXPECT_NEAR(sum / 10000, 0.0, 0.05);
  auto idx = r.sample_indices(10, 4);
  ASSERT_EQ(idx.size(), 4u);
  EXPECT_TRUE(std::is_sorted(idx.begin(), idx.end()));
  EXPECT_THROW(r.sample_indices(3, 4), Error);
}

TEST(Fs, AtomicWriteLeavesNoTempFiles) {
  test::TempDir t;
  write_atomic(t / "x/y.bin", std::vector<uint8_t>{1, 2, 3});
  EXPECT_EQ(read_bytes(t / "x/y.bin"), (std::vector<uint8_t>{1, 2, 3}));
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(t / "x")) (void)e, ++n;
  EXPECT_EQ(n, 1);
  EXPECT_THROW(read_text(t / "missing.txt"), Error);
}

TEST(Fs, StagingDirIsRemovedUnlessCommitted) {
  test::TempDir t;
  {
    StagingDir s(t / "out");
    write_atomic(s.path() / "f", std::string("1"));
  }
  EXPECT_FALSE(std::filesystem::exists(t / "out"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(t.path()), {}), 0);
  {
    StagingDir s(t / "out");
    write_atomic(s.path() / "f", std::string("2"));
    s.commit();
  }
  EXPECT_EQ(read_text(t / "out/f"), "2");
  {
    StagingDir s(t / "out");  // replacing: old content stays until commit
    write_atomic(s.path() / "g", std::string("3"));
    EXPECT_EQ(read_text(t / "out/f"), "2");
    s.commit();
  }
  EXPECT_FALSE(std::filesystem::exists(t / "out/f"));
  EXPECT_EQ(read_text(t / "out/g"), "3");
}

TEST(Json, JsonlErrorsNameFileAndLine) {
  test::TempDir t;
  write_atomic(t / "a.jsonl", std::string("{\"a\":1}\n\n{\"a\":2\n"));
  try {
    read_jsonl(t / "a.jsonl");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a.jsonl:3"), std::string::npos) << e.what();
  }
  write_atomic(t / "b.jsonl", std::string("[1,2]\n"));
  EXPECT_THROW(read_jsonl(t / "b.jsonl"), Error);
}

// A number too large for a double is malformed input, reported like any other:
// nlohmann throws out_of_range (406), not parse_error, for it, which escaped as a
// crash (found by fuzz/model_config_fuzz, fuzz/corpus_fuzz, fuzz/run_config_fuzz).
TEST(Json, NumberOverflowIsAnErrorNamingFileAndLine) {
  test::TempDir t;
  write_atomic(t / "config.json", std::string("{\"rope_theta\": 1e400}"));
  std::string m = test::error_of([&] { read_json(t / "config.json"); });
  test::expect_contains(m, "config.json");
  test::expect_contains(m, "1e400");
  write_atomic(t / "items.jsonl", std::string("{\"a\":1}\n{\"a\":-2e999}\n"));
  m = test::error_of([&] { read_jsonl(t / "items.jsonl"); });
  test::expect_contains(m, "items.jsonl:2");
  test::expect_contains(m, "2e999");
}

TEST(Json, TypedGettersNameTheField) {
  Json j = {{"n", "x"}};
  JsonCtx ctx{"f.json", 7};
  try {
    get_int(j, "n", ctx);
    FAIL();
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("f.json:7"), std::string::npos);
    EXPECT_NE(m.find("'n'"), std::string::npos);
    EXPECT_NE(m.find("integer"), std::string::npos);
  }
  EXPECT_THROW(get_string(j, "missing", ctx), Error);
}

TEST(Manifest, DigestDetectsTampering) {
  test::TempDir t;
  write_atomic(t / "data.txt", std::string("abc"));
  write_manifest(t.path(), "corpus", {{"seed", 1}}, Json::object());
  Json m = read_manifest(t.path(), "corpus");
  EXPECT_NO_THROW(verify_manifest_digest(t.path(), m));
  EXPECT_THROW(read_manifest(t.path(), "benchmark"), Error);
  write_atomic(t / "data.txt", std::string("abd"));
  EXPECT_THROW(verify_manifest_digest(t.path(), m), Error);
  test::TempDir empty;
  EXPECT_THROW(read_manifest(empty.path(), "corpus"), Error);
}

TEST(Fs, StagingDirRemovesLeftoversOfKilledRuns) {
  test::TempDir t;
  std::filesystem::create_directories(t / "out.tmp-4194000-0/sub");  // no such pid
  std::filesystem::create_directories(t / ("out.tmp-" + std::to_string(getpid()) + "-999"));  // alive: kept
  { StagingDir s(t / "out"); }
  EXPECT_FALSE(std::filesystem::exists(t / "out.tmp-4194000-0"));
  EXPECT_TRUE(std::filesystem::exists(t / ("out.tmp-" + std::to_string(getpid()) + "-999")));
}

// A resumed job's ETA comes from this run's pace, not from the steps a previous
// run did (which once showed "2880/7200 139880518.7/s ETA 0s").
TEST(Progress, ResumedStepsCountTowardsTheBarButNotTheRate) {
  setenv("MEDFORGET_QUIET", "1", 1);
  Progress p("test", 2000);
  p.skip(1000);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  p.tick(1);
  EXPECT_LT(p.rate(), 100.0);       // 1 unit in >= 50 ms
  EXPECT_GT(p.eta_seconds(), 9.0);  // 999 more at that pace
  p.done();
  unsetenv("MEDFORGET_QUIET");
}
