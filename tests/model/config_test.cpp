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
  EXPECT_EQ(t.vision_config.num_patches(), 64);
  EXPECT_EQ(t.vision_config.num_image_tokens(), 16);
  ModelConfig l = model_preset("large");
  EXPECT_EQ(l.hidden_size, 1024);
  EXPECT_EQ(l.num_hidden_layers, 24);
  EXPECT_EQ(l.vision_config.image_size, 128);
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
  for (const char* k : {"in_chans", "patch_size", "spatial_merge_size", "image_size", "intermediate_size",
                        "hidden_size"})
    EXPECT_TRUE(j["vision_config"].contains(k)) << k;

  // Through text, as config.json is.
  ModelConfig back = ModelConfig::from_json(Json::parse(j.dump(2)), "config.json");
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.rms_norm_eps, 1e-5);
  EXPECT_EQ(back.bos_token_id, -1);
  EXPECT_EQ(back.preset, "small");
  EXPECT_TRUE(back.tie_word_embeddings);
  EXPECT_EQ(back.vision_config.image_size, c.vision_config.image_size);
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
      {"patch", [](ModelConfig& c) { c.vision_config.patch_size = 7; }, {"image_size", "patch_size"}},
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

// An image of more patches than an int holds is an error naming the keys, not a
// signed overflow in num_patches() that let the config through (found by
// fuzz/model_config_fuzz under UndefinedBehaviorSanitizer).
TEST(ModelConfig, TooManyPatchesIsAnErrorNotAnOverflow) {
  ModelConfig c = filled("tiny");
  c.vision_config.image_size = 1 << 30;  // 2^30 patches per side: 2^60 patches
  c.vision_config.patch_size = 1;
  auto msg = error_of([&] { c.validate(); });
  expect_contains(msg, "vision_config.image_size");
  expect_contains(msg, "vision_config.patch_size");
  c.vision_config.image_size = 46340;  // 46340^2 patches still fit in 32 bits
  expect_contains(error_of([&] { c.validate(); }), "max_position_embeddings");
}
