// The fine-tuning → checkpoint → evaluation path through the CLI, at tiny scale.
#include <gtest/gtest.h>

#include "core/fs.hpp"
#include "core/json.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

// The shared fixture is this path: a tiny fine-tuning "killed" after 40 steps,
// resumed by the same command, then evaluated on everything it was trained on.
TEST(FinetuneCli, MemorisesTinyBenchmarkAndResumesAfterAStop) {
  const auto& f = test::trained_tiny();
  const std::string stopped = read_text(f.stop_log), resumed = read_text(f.resume_log);
  EXPECT_NE(stopped.find("run the same command again to resume"), std::string::npos) << stopped;
  EXPECT_NE(resumed.find("resumed from step 40"), std::string::npos) << resumed;
  EXPECT_FALSE(fs::exists(f.model.string() + ".partial"));
  test::TempDir t;
  auto r = test::run_cli("eval --model " + f.model.string() + " --bench " + f.bench.string() +
                         " --file finetune.jsonl --out " + (t / "ev").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Json s = read_json(t / "ev/summary.json")["sets"]["finetune"];
  EXPECT_GE(s["class_acc"].get<double>(), 0.95) << s.dump();
  EXPECT_GE(s["cloze_acc"].get<double>(), 0.9) << s.dump();
  EXPECT_GE(s["rouge_l"].get<double>(), 0.9) << s.dump();
  EXPECT_GE(s["identity_acc"].get<double>(), 0.9) << s.dump();
  // A different option on the same partial run is refused, not silently mixed.
  r = test::run_cli("finetune --bench " + f.bench.string() + " --out " + (t / "other").string() +
                    " --preset tiny --epochs 40 --stop-after 5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(t / "other.partial"));
  r = test::run_cli("finetune --bench " + f.bench.string() + " --out " + (t / "other").string() + " --preset tiny --epochs 41");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("different options"), std::string::npos) << r.output;
}

TEST(FinetuneCli, BadInputsFailClearly) {
  test::TempDir t;
  auto r = test::run_cli("finetune --bench " + (t / "none").string() + " --out " + (t / "x").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("manifest.json: missing"), std::string::npos) << r.output;
  r = test::run_cli("data build --preset tiny --out " + (t / "b").string());
  ASSERT_EQ(r.exit_code, 0);
  r = test::run_cli("finetune --bench " + (t / "b").string() + " --out " + (t / "x").string() + " --preset huge");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("huge"), std::string::npos) << r.output;
  r = test::run_cli("finetune --bench " + (t / "b").string() + " --out " + (t / "x").string() + " --device cuda:99");
  EXPECT_NE(r.exit_code, 0);  // no GPU here, or no 100th one on a GPU machine
  EXPECT_NE(r.output.find("--device cuda:99"), std::string::npos) << r.output;
  r = test::run_cli("eval --model " + (t / "nockpt").string() + " --bench " + (t / "b").string() + " --level patient --out " + (t / "e").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("error:"), std::string::npos) << r.output;
}
