// Qwen2.5-VL's position bookkeeping against transformers (tests/fixtures/hf):
// the decoder's 3-axis RoPE positions and deltas for left-padded batches with
// images of several sizes, two images in a row and text-only rows; the vision
// tower's window order, window and full-attention spans, and 2D rotary tables.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/json.hpp"
#include "model/qwen_positions.hpp"
#include "model/hf_fixtures.hpp"
#include "model/safetensors.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

const fs::path kFixtures = test::kHfFixtures;
using test::values;

std::vector<GridThw> grids_of(const RawTensor& t) {
  auto v = values<int64_t>(t);
  std::vector<GridThw> g;
  for (size_t i = 0; i + 2 < v.size(); i += 3) g.push_back({v[i], v[i + 1], v[i + 2]});
  return g;
}

struct Fixture {
  std::map<std::string, RawTensor> ref;
  Json config;
  explicit Fixture(const std::string& m)
      : ref(read_safetensors(kFixtures / (m + "_ref.safetensors"))), config(read_json(kFixtures / m / "config.json")) {}
};

}  // namespace

TEST(QwenPositions, RopeIndexEqualsTransformersForPaddedBatches) {
  int cases = 0;
  for (const char* m : {"model_a", "model_b"}) {
    Fixture f(m);
    const int merge = f.config["vision_config"]["spatial_merge_size"];
    const int64_t image_token = f.config["image_token_id"];
    for (const char* c : {"batch", "single", "textonly"}) {
      const std::string p = c;
      if (!f.ref.count(p + ".input_ids")) continue;
      const RawTensor& ids = f.ref.at(p + ".input_ids");
      const int64_t B = ids.shape[0], L = ids.shape[1];
      std::vector<int64_t> mask(static_cast<size_t>(B * L), 1);
      if (f.ref.count(p + ".attention_mask")) mask = values<int64_t>(f.ref.at(p + ".attention_mask"));
      std::vector<GridThw> grids;
      if (f.ref.count(p + ".image_grid_thw")) grids = grids_of(f.ref.at(p + ".image_grid_thw"));
      const RopeIndex r = rope_index(values<int64_t>(ids), mask, B, L, image_token, grids, merge);
      EXPECT_EQ(r.positions, values<int64_t>(f.ref.at(p + ".position_ids"))) << m << " " << p;
      EXPECT_EQ(r.deltas, values<int64_t>(f.ref.at(p + ".rope_deltas"))) << m << " " << p;
      ++cases;
    }
  }
  EXPECT_EQ(cases, 5);
}

TEST(QwenPositions, VisionWindowsSpansAndRotaryTablesEqualTransformers) {
  for (const char* m : {"model_a", "model_b"}) {
    Fixture f(m);
    const Json& vc = f.config["vision_config"];
    const int merge = vc["spatial_merge_size"], patch = vc["patch_size"], window = vc["window_size"];
    const auto grids = grids_of(f.ref.at("single.image_grid_thw"));
    const VisionWindows w = vision_windows(grids, merge, window, patch);
    EXPECT_EQ(w.index, values<int64_t>(f.ref.at("single.vision.window_index"))) << m;
    const std::set<int> full(vc["fullatt_block_indexes"].begin(), vc["fullatt_block_indexes"].end());
    for (int b = 0; b < vc["depth"].get<int>(); ++b)
      EXPECT_EQ(full.count(b) ? vision_cu_seqlens(grids) : w.cu_seqlens,
                values<int64_t>(f.ref.at("single.vision.block" + std::to_string(b) + ".cu_seqlens")))
          << m << " block " << b;
    // The rotary table, in window order: cos(h·f), cos(w·f) for each inverse frequency f, twice.
    const auto pos = vision_rotary_positions(grids, merge);
    const int64_t head_dim = vc["hidden_size"].get<int64_t>() / vc["num_heads"].get<int64_t>();
    const double theta = vc["rope_parameters"]["rope_theta"];
    const int64_t nf = head_dim / 4;
    const RawTensor& cos_ref = f.ref.at("single.vision.rope_cos");
    const auto want = values<float>(cos_ref);
    ASSERT_EQ(cos_ref.shape[1], head_dim);
    double worst = 0;
    size_t row = 0;
    for (int64_t tok : w.index)
      for (int64_t u = 0; u < merge * merge; ++u, ++row) {
        const auto& hw = pos[static_cast<size_t>(tok * merge * merge + u)];
        for (int64_t i = 0; i < head_dim; ++i) {
          const int64_t j = i % (head_dim / 2);
          const float inv = 1.0f / std::pow(static_cast<float>(theta), static_cast<float>(2 * (j % nf)) / (head_dim / 2));
          const double got = std::cos(static_cast<float>(hw[j < nf ? 0 : 1]) * inv);
          worst = std::max(worst, std::abs(got - want[row * static_cast<size_t>(head_dim) + i]));
        }
      }
    EXPECT_LT(worst, 1e-6) << m;
  }
}

TEST(QwenPositions, ImageRunsAndGridsMustAgree) {
  const std::vector<int64_t> ids{9, 5, 5, 5, 9}, mask(5, 1);
  test::expect_contains(test::error_of([&] { rope_index(ids, mask, 1, 5, 5, {{1, 4, 4}}, 2); }),
                        "has 3 image tokens where its grid 1×4×4 needs 4");
  test::expect_contains(test::error_of([&] { rope_index(ids, mask, 1, 5, 5, {}, 2); }), "more images than");
  test::expect_contains(test::error_of([&] { rope_index({9, 9}, {1, 1}, 1, 2, 5, {{1, 2, 2}}, 2); }),
                        "1 grids given for 0 images");
  test::expect_contains(test::error_of([] { vision_windows({{1, 4, 4}}, 2, 14, 14); }), "window_size 14");
}
