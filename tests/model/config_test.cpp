#include "model/config.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"

#include "test_util.hpp"

using namespace medforget;
using medforget::test::error_of;
using medforget::test::expect_contains;

namespace {

ModelConfig filled(const std::string& preset) { return model_preset_with_ids(preset, 300); }

}  // namespace

TEST(ModelConfig, PresetsAreConsistent) {
  ASSERT_EQ(model_preset_names(), (std::vector<std::string>{"tiny", "small", "base", "large"}));
  for (const auto& name : model_preset_names()) {
    SCOPED_TRACE(name);
    ModelConfig c = model_preset(name);
    EXPECT_EQ(c.preset, name);
    EXPECT_EQ(c.vocab_size, 0);  // filled in from the tokenizer
    EXPECT_EQ(c.vision_config.out_hidden_size, c.hidden_size);
    EXPECT_NO_THROW(filled(name).validate());
    // Unfilled vocab is not a usable config.
    expect_contains(error_of([&] { c.validate(); }), "vocab_size");
  }
  ModelConfig t = model_preset("tiny");
  EXPECT_EQ(t.hidden_size, 64);
  EXPECT_EQ(t.num_hidden_layers, 2);
  EXPECT_EQ(t.num_attention_heads, 4);
  EXPECT_EQ(t.num_key_value_heads, 2);
  EXPECT_EQ(t.intermediate_size, 176);
  EXPECT_EQ(t.max_position_embeddings, 512);
  EXPECT_EQ(t.vision_config.hidden_size, 64);
  EXPECT_EQ(t.vision_config.depth, 1);
  // Qwen2.5-VL's own structure at small sizes: RGB Conv3d patches over 2 frames,
  // 2×2 merge, 32-pixel windows, full attention in the last block, M-RoPE.
  EXPECT_EQ(t.vision_config.in_channels, 3);
  EXPECT_EQ(t.vision_config.temporal_patch_size, 2);
  EXPECT_EQ(t.vision_config.patch_dim(), 3 * 2 * 8 * 8);
  EXPECT_EQ(t.vision_config.window_size, 32);
  EXPECT_EQ(t.vision_config.fullatt_block_indexes, std::vector<int>{0});
  EXPECT_EQ(t.mrope_section, (std::vector<int>{2, 3, 3}));
  EXPECT_EQ(t.image_processor.patch_size, 8);
  EXPECT_EQ(t.image_processor.max_pixels, 64 * 64);
  ModelConfig l = model_preset("large");
  EXPECT_EQ(l.hidden_size, 1024);
  EXPECT_EQ(l.num_hidden_layers, 24);
  EXPECT_EQ(l.mrope_section, (std::vector<int>{8, 12, 12}));
  EXPECT_EQ(l.vision_config.fullatt_block_indexes, (std::vector<int>{3, 7, 11}));
  EXPECT_EQ(model_preset("small").vision_config.fullatt_block_indexes, std::vector<int>{1});
  // Qwen2.5-VL-7B's head_dim 128 gives its published sections.
  EXPECT_EQ(default_mrope_section(128), (std::vector<int>{16, 24, 24}));
  expect_contains(error_of([] { model_preset("huge"); }), "huge");
}

TEST(ModelConfig, JsonRoundTripWithHfKeys) {
  ModelConfig c = filled("small");
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 1000000.0;
  c.tie_word_embeddings = true;
  c.bos_token_id = -1;
  Json j = c.to_json();
  EXPECT_EQ(j["model_type"], "qwen2_5_vl");
  EXPECT_EQ(j["architectures"], Json::array({"Qwen2_5_VLForConditionalGeneration"}));
  EXPECT_EQ(j["medforget_preset"], "small");
  EXPECT_EQ(j["num_key_value_heads"], 2);
  EXPECT_TRUE(j["bos_token_id"].is_null());  // HF writes null for an unused id
  EXPECT_EQ(j["vision_config"]["depth"], 2);
  EXPECT_EQ(j["vision_config"]["num_heads"], c.vision_config.num_heads);
  EXPECT_EQ(j["vision_config"]["out_hidden_size"], 192);
  for (const char* k : {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                        "max_position_embeddings", "rms_norm_eps", "rope_theta", "vocab_size", "tie_word_embeddings",
                        "torch_dtype", "pad_token_id", "eos_token_id", "image_token_id", "vision_start_token_id",
                        "vision_end_token_id"})
    EXPECT_TRUE(j.contains(k)) << k;
  for (const char* k : {"in_chans", "in_channels", "patch_size", "temporal_patch_size", "spatial_merge_size",
                        "window_size", "fullatt_block_indexes", "intermediate_size", "hidden_size"})
    EXPECT_TRUE(j["vision_config"].contains(k)) << k;
  EXPECT_EQ(j["rope_scaling"]["mrope_section"], Json(c.mrope_section));
  EXPECT_EQ(j["rope_scaling"]["type"], "mrope");

  // Through text, as config.json is.
  ModelConfig back = ModelConfig::from_json(Json::parse(j.dump(2)), "config.json");
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.rms_norm_eps, 1e-5);
  EXPECT_EQ(back.bos_token_id, -1);
  EXPECT_EQ(back.preset, "small");
  EXPECT_TRUE(back.tie_word_embeddings);
  EXPECT_EQ(back.mrope_section, c.mrope_section);
  EXPECT_EQ(back.vision_config.fullatt_block_indexes, c.vision_config.fullatt_block_indexes);
  back.image_processor = c.image_processor;  // preprocessor_config.json travels separately
  EXPECT_NO_THROW(back.validate());
}

TEST(ModelConfig, FromJsonNamesFileAndKey) {
  Json j = filled("tiny").to_json();
  Json m = j;
  m.erase("num_key_value_heads");
  auto msg = error_of([&] { ModelConfig::from_json(m, "/ckpt/config.json"); });
  expect_contains(msg, "/ckpt/config.json");
  expect_contains(msg, "num_key_value_heads");
  expect_contains(msg, "missing");

  m = j;
  m["hidden_size"] = "64";
  msg = error_of([&] { ModelConfig::from_json(m, "/ckpt/config.json"); });
  expect_contains(msg, "hidden_size");
  expect_contains(msg, "integer");

  m = j;
  m["vision_config"].erase("patch_size");
  msg = error_of([&] { ModelConfig::from_json(m, "/ckpt/config.json"); });
  expect_contains(msg, "vision_config");
  expect_contains(msg, "patch_size");

  m = j;
  m["tie_word_embeddings"] = 1;
  expect_contains(error_of([&] { ModelConfig::from_json(m, "c.json"); }), "tie_word_embeddings");

  m = j;
  m["architectures"] = Json::array({"LlamaForCausalLM"});
  expect_contains(error_of([&] { ModelConfig::from_json(m, "c.json"); }), "architectures");

  m = j;
  m.erase("vision_config");
  expect_contains(error_of([&] { ModelConfig::from_json(m, "c.json"); }), "vision_config");

  // Optional keys: a real HF config has no medforget_preset / pad_token_id.
  m = j;
  m.erase("medforget_preset");
  m.erase("pad_token_id");
  ModelConfig c = ModelConfig::from_json(m, "c.json");
  EXPECT_EQ(c.preset, "");
  EXPECT_EQ(c.pad_token_id, -1);
}

TEST(ModelConfig, ValidateNamesTheInconsistentKeys) {
  struct Case {
    const char* what;
    void (*mutate)(ModelConfig&);
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"heads", [](ModelConfig& c) { c.num_attention_heads = 5; }, {"hidden_size", "num_attention_heads"}},
      {"kv", [](ModelConfig& c) { c.num_key_value_heads = 3; }, {"num_key_value_heads"}},
      {"odd head dim",
       [](ModelConfig& c) {
         c.hidden_size = 60;
         c.num_attention_heads = 4;
         c.vision_config.out_hidden_size = 60;
       },
       {"RoPE", "15"}},
      {"patch", [](ModelConfig& c) { c.vision_config.patch_size = 7; }, {"patch_size", "image processor"}},
      {"window", [](ModelConfig& c) { c.vision_config.window_size = 24; }, {"window_size", "16"}},
      {"fullatt", [](ModelConfig& c) { c.vision_config.fullatt_block_indexes = {1}; }, {"fullatt_block_indexes", "1"}},
      {"mrope", [](ModelConfig& c) { c.mrope_section = {2, 2, 2}; }, {"mrope_section", "head_dim/2 = 8"}},
      {"channels", [](ModelConfig& c) { c.vision_config.in_channels = 1; }, {"in_channels"}},
      {"vision head dim", [](ModelConfig& c) { c.vision_config.num_heads = 32; }, {"vision head dim 2"}},
      {"merge", [](ModelConfig& c) { c.vision_config.spatial_merge_size = 3; }, {"spatial_merge_size"}},
      {"out", [](ModelConfig& c) { c.vision_config.out_hidden_size = 32; }, {"out_hidden_size", "hidden_size"}},
      {"vocab", [](ModelConfig& c) { c.image_token_id = 300; }, {"image_token_id", "300"}},
      {"vocab eos", [](ModelConfig& c) { c.eos_token_id = 1000; }, {"eos_token_id"}},
      {"negative", [](ModelConfig& c) { c.intermediate_size = 0; }, {"intermediate_size", "positive"}},
      {"vision heads", [](ModelConfig& c) { c.vision_config.num_heads = 3; }, {"vision_config.num_heads"}},
      {"depth", [](ModelConfig& c) { c.vision_config.depth = -1; }, {"vision_config.depth"}},
      {"dtype", [](ModelConfig& c) { c.torch_dtype = "int8"; }, {"torch_dtype"}},
      {"eps", [](ModelConfig& c) { c.rms_norm_eps = 0; }, {"rms_norm_eps"}},
      {"model type", [](ModelConfig& c) { c.model_type = "llama"; }, {"model_type"}},
      {"positions", [](ModelConfig& c) { c.max_position_embeddings = 16; }, {"max_position_embeddings"}},
  };
  for (const auto& k : cases) {
    SCOPED_TRACE(k.what);
    ModelConfig c = filled("tiny");
    k.mutate(c);
    auto msg = error_of([&] { c.validate(); });
    for (const auto& p : k.parts) expect_contains(msg, p);
  }
  ModelConfig ok = filled("tiny");
  ok.bos_token_id = -1;  // no BOS is fine
  EXPECT_NO_THROW(ok.validate());
}

// config.json as transformers 5.x writes it (text_config, rope_parameters, dtype)
// and as the released Qwen2.5-VL checkpoints carry it (4.x: text keys at the top
// level, rope_scaling, torch_dtype, eos as a list in some fine-tunes).
TEST(ModelConfig, ReadsTransformersFiveAndFourLayouts) {
  const auto dir = std::filesystem::path(MEDFORGET_SOURCE_DIR) / "tests/fixtures/hf";
  ModelConfig a = ModelConfig::from_json(read_json(dir / "model_a/config.json"), "model_a/config.json");
  EXPECT_EQ(a.hidden_size, 64);
  EXPECT_EQ(a.num_hidden_layers, 2);
  EXPECT_EQ(a.rope_theta, 1000000.0);
  EXPECT_EQ(a.mrope_section, (std::vector<int>{2, 3, 3}));
  EXPECT_FALSE(a.tie_word_embeddings);
  EXPECT_EQ(a.eos_token_id, 3);
  EXPECT_EQ(a.pad_token_id, 1);
  EXPECT_EQ(a.video_token_id, 7);
  EXPECT_EQ(a.vision_config.patch_size, 14);
  EXPECT_EQ(a.vision_config.window_size, 56);
  EXPECT_EQ(a.vision_config.fullatt_block_indexes, (std::vector<int>{1, 3}));
  a.image_processor = ImageProcessorConfig::load(dir / "model_a/preprocessor_config.json");
  EXPECT_NO_THROW(a.validate());
  ModelConfig b = ModelConfig::from_json(read_json(dir / "model_b/config.json"), "model_b/config.json");
  EXPECT_TRUE(b.tie_word_embeddings);
  EXPECT_EQ(b.num_key_value_heads, 1);

  // Qwen2.5-VL-7B-Instruct's config.json (transformers 4.x layout).
  Json q = Json::parse(R"({
    "architectures": ["Qwen2_5_VLForConditionalGeneration"], "attention_dropout": 0.0,
    "bos_token_id": 151643, "eos_token_id": [151645, 151643], "vision_start_token_id": 151652,
    "vision_end_token_id": 151653, "vision_token_id": 151654, "image_token_id": 151655, "video_token_id": 151656,
    "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02, "intermediate_size": 18944,
    "max_position_embeddings": 128000, "max_window_layers": 28, "model_type": "qwen2_5_vl",
    "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06,
    "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
    "transformers_version": "4.41.2", "use_cache": true, "use_sliding_window": false,
    "vision_config": {"depth": 32, "hidden_act": "silu", "hidden_size": 1280, "intermediate_size": 3420,
      "num_heads": 16, "in_chans": 3, "out_hidden_size": 3584, "patch_size": 14, "spatial_merge_size": 2,
      "spatial_patch_size": 14, "window_size": 112, "fullatt_block_indexes": [7, 15, 23, 31],
      "tokens_per_second": 2, "temporal_patch_size": 2},
    "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]}, "vocab_size": 152064})");
  ModelConfig r = ModelConfig::from_json(q, "Qwen2.5-VL-7B-Instruct/config.json");
  EXPECT_EQ(r.eos_token_id, 151645);
  EXPECT_EQ(r.head_dim(), 128);
  EXPECT_EQ(r.mrope_section, (std::vector<int>{16, 24, 24}));
  EXPECT_EQ(r.torch_dtype, "bfloat16");
  EXPECT_EQ(r.vision_config.fullatt_block_indexes, (std::vector<int>{7, 15, 23, 31}));
  r.image_processor = ImageProcessorConfig{};  // Qwen2.5-VL's defaults: patch 14, merge 2
  EXPECT_NO_THROW(r.validate());
  // What medforget writes reads back the same.
  ModelConfig back = ModelConfig::from_json(Json::parse(r.to_json().dump()), "c.json");
  EXPECT_EQ(back.to_json(), r.to_json());

  // Refused with the file and key named.
  auto refuse = [&](Json j, const std::vector<std::string>& parts) {
    auto msg = error_of([&] { ModelConfig::from_json(j, "/ckpt/config.json"); });
    expect_contains(msg, "/ckpt/config.json");
    for (const auto& p : parts) expect_contains(msg, p);
  };
  Json other = q;
  other["model_type"] = "llava";
  refuse(other, {"model_type", "llava"});
  Json no_mrope = q;
  no_mrope.erase("rope_scaling");
  refuse(no_mrope, {"mrope_section"});
  Json yarn = q;
  yarn["rope_scaling"]["type"] = "yarn";
  refuse(yarn, {"yarn"});
  Json sliding = q;
  sliding["use_sliding_window"] = true;
  refuse(sliding, {"use_sliding_window"});
  Json act = q;
  act["vision_config"]["hidden_act"] = "quick_gelu";
  refuse(act, {"vision_config", "quick_gelu"});
}

// Vision sizes large enough to overflow 32-bit products (patch × merge, the patch
// dimension) are errors naming the keys, not wrapped values that pass validation
// (the class of fuzz/RESULTS.md finding 3).
TEST(ModelConfig, HugeVisionSizesAreErrorsNotOverflows) {
  ModelConfig c = filled("tiny");
  c.vision_config.patch_size = 1 << 30;
  c.vision_config.spatial_merge_size = 1 << 30;
  c.vision_config.window_size = 1 << 30;
  c.image_processor.patch_size = c.vision_config.patch_size;
  c.image_processor.merge_size = c.vision_config.spatial_merge_size;
  auto msg = error_of([&] { c.validate(); });
  expect_contains(msg, "vision_config.patch_size");
  expect_contains(msg, "at most 64");
  const auto seed = std::filesystem::path(MEDFORGET_SOURCE_DIR) / "fuzz/corpus/model_config/regress_huge_vision_sizes.json";
  ModelConfig r = ModelConfig::from_json(read_json(seed), seed.string());
  r.image_processor = ImageProcessorConfig{};
  expect_contains(error_of([&] { r.validate(); }), "spatial_merge_size");
}
