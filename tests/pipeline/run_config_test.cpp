// Run configuration files: what apply_config accepts and the errors it gives.
// (The whole run/grid pipeline is tested in run_test.cpp.)
#include <gtest/gtest.h>

#include "core/json.hpp"
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
