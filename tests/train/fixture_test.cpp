// The cached trained tiny model (see test_util.hpp). ctest runs this first, as
// the fixture every torch test requires, so its one-off training is never
// charged to another test's timeout.
#include <gtest/gtest.h>

#include "core/json.hpp"
#include "test_util.hpp"

using namespace medforget;

TEST(Fixture, TrainedTinyModel) {
  const auto& f = test::trained_tiny();
  EXPECT_TRUE(std::filesystem::exists(f.model / "model.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(f.bench / "manifest.json"));
}
