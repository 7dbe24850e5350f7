// Run configuration files: what apply_config accepts and the errors it gives.
// (The whole run/grid pipeline is tested in run_test.cpp.)
#include <gtest/gtest.h>

#include <algorithm>

#include "core/json.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/run_config.hpp"
#include "test_util.hpp"

using namespace medforget;

// A method's name or label that is not a string is an error naming the file, the
// method and the field, not nlohmann's type_error escaping from Json::value
// (found by fuzz/run_config_fuzz).
TEST(RunConfig, MethodNameAndLabelMustBeStrings) {
  const RunConfig r = default_run_config("tiny");
  auto error = [&](const char* text) {
    return test::error_of([&] { apply_config(r, Json::parse(text), "cfg.json"); });
  };
  std::string m = error(R"({"methods": [{"method": "chip", "name": 1}]})");
  test::expect_contains(m, "cfg.json: methods[0]");
  test::expect_contains(m, "'name'");
  m = error(R"({"methods": ["graddiff", {"method": "chip", "label": ["CHIP"]}]})");
  test::expect_contains(m, "cfg.json: methods[1]");
  test::expect_contains(m, "'label'");
  // Absent: the method's name, then its display name.
  RunConfig c = apply_config(r, Json::parse(R"({"methods": [{"method": "graddiff"}]})"), "cfg.json");
  ASSERT_EQ(c.variants.size(), 1u);
  EXPECT_EQ(c.variants[0].name, "graddiff");
  EXPECT_EQ(c.variants[0].label, "GradDiff");
}

// The pretrained regime: a pretrain stage the fine-tuning reads, LoRA merged into
// vanilla; an existing pretrained model skips the stage; bad settings are refused.
TEST(RunConfig, PretrainedRegimePlansPretrainThenLoraFinetuning) {
  const RunConfig base = default_run_config("tiny");
  RunConfig c = apply_config(base, Json::parse(R"({"regime": "pretrained", "pretrain": {"epochs": 2, "corpora": 3}})"),
                             "cfg.json");
  validate_config(c, {"chip", "graddiff", "retrain"});
  auto stages = plan_stages(c);
  auto find = [&](const std::string& name) {
    for (const auto& s : stages)
      if (s.name == name) return s;
    ADD_FAILURE() << "no stage " << name;
    return Stage{};
  };
  auto has = [](const std::vector<std::string>& v, const std::vector<std::string>& seq) {
    return std::search(v.begin(), v.end(), seq.begin(), seq.end()) != v.end();
  };
  const Stage pt = find("pretrain"), ft = find("finetune"), rep = find("report");
  EXPECT_TRUE(pt.deps.empty());  // not the benchmark: a new benchmark does not redo hours of pretraining
  EXPECT_TRUE(has(pt.args, {"--epochs", "2"}) && has(pt.args, {"--corpora", "3"}) && has(pt.args, {"--preset", "tiny"}));
  EXPECT_NE(std::find(ft.deps.begin(), ft.deps.end(), "pretrain"), ft.deps.end());
  EXPECT_TRUE(has(ft.args, {"--model", "$OUT/models/pretrained"}));
  EXPECT_TRUE(has(ft.args, {"--lora", regime_finetune_defaults("tiny").lora}));
  EXPECT_NE(std::find(ft.args.begin(), ft.args.end(), "--merge"), ft.args.end());
  EXPECT_EQ(std::find(ft.args.begin(), ft.args.end(), "--preset"), ft.args.end());
  EXPECT_TRUE(has(rep.args, {"--regime", "pretrained"}));

  c = apply_config(base, Json::parse(R"({"regime": "pretrained", "pretrain": {"model": "/models/pre"},
                                         "finetune": {"lora": "r=4,alpha=8", "epochs": 5}})"),
                   "cfg.json");
  validate_config(c, {"chip", "graddiff"});
  stages = plan_stages(c);
  for (const auto& s : stages) EXPECT_NE(s.name, "pretrain");
  const Stage ft2 = find("finetune");
  EXPECT_TRUE(has(ft2.args, {"--model", "/models/pre"}) && has(ft2.args, {"--lora", "r=4,alpha=8"}) &&
              has(ft2.args, {"--epochs", "5"}));
  EXPECT_EQ(std::count(ft2.args.begin(), ft2.args.end(), "--epochs"), 1);

  // The default stays the from-scratch regime, and says so in the report.
  const Stage rep0 = [&] {
    for (const auto& s : plan_stages(base))
      if (s.name == "report") return s;
    return Stage{};
  }();
  EXPECT_TRUE(has(rep0.args, {"--regime", "scratch"}));

  auto error = [&](const char* text) {
    return test::error_of([&] { validate_config(apply_config(base, Json::parse(text), "cfg.json"), {"chip", "graddiff"}); });
  };
  test::expect_contains(error(R"({"regime": "pretrianed"})"), "expected scratch or pretrained");
  test::expect_contains(error(R"({"pretrain": {"epochs": 2}})"), "need \"regime\": \"pretrained\"");
  test::expect_contains(error(R"({"finetune": {"lora": "r=4"}})"), "pretrained regime");
  test::expect_contains(error(R"({"regime": "pretrained", "pretrain": {"epochs": 0}})"), "epochs");
  test::expect_contains(error(R"({"regime": "pretrained", "pretrain": {"corpora": 0}})"), "corpora");
  test::expect_contains(error(R"({"regime": "pretrained", "pretrain": {"data_preset": "huge"}})"), "huge");
  test::expect_contains(error(R"({"regime": "pretrained", "pretrain": {"steps": 3}})"), "unknown pretrain option");
  test::expect_contains(error(R"({"regime": "pretrained", "pretrain": {"model": "/m", "epochs": 3}})"),
                        "other pretrain options do not apply");
  test::expect_contains(test::error_of([&] { apply_config(base, Json::parse(R"({"pretrain": 3})"), "cfg.json"); }),
                        "'pretrain' must be an object");
}
