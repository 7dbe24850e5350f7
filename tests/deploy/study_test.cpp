// The sequential-unlearning study on the tiny model: requests one after another
// per method, then as one batch, with every step's measures, table and figure.
#include <gtest/gtest.h>

#include <cmath>

#include "core/fs.hpp"
#include "core/json.hpp"
#include "deploy/study.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

TEST(Study, RequestsOneAfterAnotherThenAsABatchWithEveryStepMeasured) {
  const auto& tiny = test::trained_tiny();
  test::TempDir t;
  const fs::path out = t / "study";
  const std::string common = "deploy study --model " + tiny.model.string() + " --bench " + tiny.bench.string() +
                             " --eval-items 8 --max-new-tokens 16 ";
  const std::string base = common + "--methods chip,graddiff --opt chip:k=0.5 --opt chip:layer_fraction=1 --opt chip:cap=8 ";
  auto r = test::run_cli(base + "--requests 2 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json s = read_json(out / "study.json");
  ASSERT_EQ(s["patients"], 2);
  // Per method: before any request, after each of the two, and the batch.
  ASSERT_EQ(s["rows"].size(), 8u);
  for (const auto& method : {"chip", "graddiff"}) {
    std::vector<Json> rows;
    for (const auto& row : s["rows"])
      if (row["method"] == method) rows.push_back(row);
    ASSERT_EQ(rows.size(), 4u) << method;
    EXPECT_EQ(rows[0]["step"], "0");
    EXPECT_EQ(rows[3]["mode"], "batch");
    EXPECT_TRUE(rows[0]["mia_distance"].is_null());  // nothing forgotten yet
    EXPECT_TRUE(rows[2]["mia_distance"].is_number());
    // The measured effect: each patient's utility falls at the step that forgets it,
    // and the second step still scores the first patient (does it come back?).
    const double before = rows[0]["forget"][0], after = rows[1]["forget"][0];
    EXPECT_LT(after, before) << method;
    EXPECT_TRUE(rows[2]["forget"][0].is_number());
    if (std::string(method) == "graddiff") {  // CHIP may leave the second tiny patient's 8 items as they were
      EXPECT_LT(rows[2]["forget"][1].get<double>(), rows[1]["forget"][1].get<double>()) << method;
    }
    for (const char* k : {"retain", "general"}) EXPECT_TRUE(rows[2][k].is_number()) << k;
    // Each step went through a deployment: a ledger with certified requests.
    const fs::path seq = out / method / "sequential";
    EXPECT_EQ(test::run_cli("ledger verify " + seq.string()).exit_code, 0);
    size_t certs = 0;
    for (const auto& f : fs::directory_iterator(seq / "certificates")) certs += f.path().extension() == ".json";
    EXPECT_EQ(certs, 2u);
    EXPECT_TRUE(fs::exists(out / method / "batch" / "versions" / "v0002"));
    EXPECT_FALSE(fs::exists(out / method / "batch" / "versions" / "v0003"));
  }
  const std::string md = read_text(out / "study.md");
  test::expect_contains(md, "## graddiff");
  test::expect_contains(md, "| batch |");
  // Both requests, in the title and as rows: the drawing reads the request count, not a list's length.
  test::expect_contains(md, "# Sequential unlearning: 2 patient-level requests");
  test::expect_contains(md, "\n| 2 | ");
  const std::string svg = read_text(out / "study.svg");
  test::expect_contains(svg, "<svg");
  test::expect_contains(svg, "Forgotten patients");

  // Bad input: more requests than the benchmark can take, a malformed option, an unknown method.
  for (const auto& [args, msg] : std::vector<std::pair<std::string, std::string>>{
           {"--requests 3", "2 patients that can be forgotten while each institution keeps one"},
           {"--requests 1 --opt k=0.5", "expected METHOD:key=value"},
           {"--requests 1 --methods chip,forgetall", "forgetall"}}) {
    r = test::run_cli((args.find("--methods") == std::string::npos ? base : common) + args + " --out " + (t / "bad").string());
    EXPECT_NE(r.exit_code, 0) << args;
    test::expect_contains(r.output, msg);
  }
  // A user's directory is never replaced; the study's own is.
  fs::create_directories(t / "mine");
  write_atomic(t / "mine" / "notes.txt", "keep");
  r = test::run_cli(base + "--requests 1 --out " + (t / "mine").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(read_text(t / "mine" / "notes.txt"), "keep");
}

}  // namespace
