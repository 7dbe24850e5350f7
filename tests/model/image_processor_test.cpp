// The Qwen2.5-VL image processor against transformers' own output
// (tests/fixtures/hf, scripts/hf_reference.py): pixel values within 1e-5,
// grids equal, for square, non-square, upscaled, downscaled and grayscale images.
#include <gtest/gtest.h>

#include <cmath>

#include "core/json.hpp"
#include "model/image_processor.hpp"
#include "model/hf_fixtures.hpp"
#include "model/safetensors.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = test::kHfFixtures;
using test::values;

}  // namespace

TEST(ImageProcessor, MatchesTransformersPixelForPixel) {
  const auto ref = read_safetensors(kFixtures / "images_ref.safetensors");
  const auto cfg = ImageProcessorConfig::load(kFixtures / "model_a/preprocessor_config.json");
  EXPECT_EQ(cfg.min_pixels, 3136);
  EXPECT_EQ(cfg.max_pixels, 12544);
  int checked = 0;
  for (const auto& [name, img] : ref) {
    if (name.rfind("image.", 0) != 0) continue;
    const std::string key = name.substr(6);
    ASSERT_EQ(img.shape.size(), 3u) << name;
    const auto out = process_image(img.data.data(), static_cast<int>(img.shape[0]), static_cast<int>(img.shape[1]),
                                   static_cast<int>(img.shape[2]), cfg);
    const auto grid = values<int64_t>(ref.at("processor." + key + ".image_grid_thw"));
    EXPECT_EQ(std::vector<int64_t>(out.grid_thw.begin(), out.grid_thw.end()), grid) << key;
    const RawTensor& pv = ref.at("processor." + key + ".pixel_values");
    ASSERT_EQ(out.rows, pv.shape[0]) << key;
    ASSERT_EQ(out.cols, pv.shape[1]) << key;
    const auto want = values<float>(pv);
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) worst = std::max(worst, std::abs(double(want[i]) - out.pixel_values[i]));
    EXPECT_LE(worst, 1e-5) << key << ": max |Δ| " << worst;
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

TEST(ImageProcessor, SmartResizeAsTransformers) {
  // Python's round() sends halves to the even neighbour: 42 / 28 = 1.5 -> 2, 70 / 28 = 2.5 -> 2.
  EXPECT_EQ(smart_resize(42, 70, 28, 1, 1 << 30), std::make_pair(56, 56));
  EXPECT_EQ(smart_resize(224, 224, 28, 3136, 12544), std::make_pair(112, 112));  // down to max_pixels
  EXPECT_EQ(smart_resize(30, 40, 28, 3136, 12544), std::make_pair(56, 84));      // up to min_pixels
  test::expect_contains(test::error_of([] { smart_resize(1, 300, 28, 3136, 12544); }), "aspect ratio");
  test::expect_contains(test::error_of([] { smart_resize(0, 30, 28, 3136, 12544); }), "nothing to process");
}

TEST(ImageProcessor, AGrayscaleImageIsItsRgbReplica) {
  const auto ref = read_safetensors(kFixtures / "images_ref.safetensors");
  const RawTensor& rgb = ref.at("image.gray_64x48");
  std::vector<uint8_t> gray(static_cast<size_t>(64 * 48));
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = rgb.data[i * 3];
  const auto cfg = ImageProcessorConfig::load(kFixtures / "model_a/preprocessor_config.json");
  EXPECT_EQ(process_image(gray.data(), 64, 48, 1, cfg).pixel_values,
            process_image(rgb.data.data(), 64, 48, 3, cfg).pixel_values);
}

TEST(ImageProcessor, BadConfigurationsNameTheFileAndField) {
  auto err = [](const Json& j) { return test::error_of([&] { ImageProcessorConfig::from_json(j, "pp.json"); }); };
  test::expect_contains(err({{"resample", 2}}), "pp.json: field 'resample' must be 3");
  test::expect_contains(err({{"patch_size", 0}}), "pp.json: field 'patch_size'");
  test::expect_contains(err({{"image_std", {0.5, 0.0, 0.5}}}), "'image_std' must be positive");
  test::expect_contains(err({{"min_pixels", 9000}, {"max_pixels", 100}}), "exceeds max_pixels");
  test::expect_contains(err({{"image_mean", "x"}}), "'image_mean'");
}
