#include "model/config.hpp"

#include <limits>

#include "core/error.hpp"

namespace medforget {

namespace {

constexpr const char* kArchitecture = "Qwen2_5_VLForConditionalGeneration";

int get_i32(const Json& j, const char* key, const JsonCtx& ctx) {
  int64_t v = get_int(j, key, ctx);
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max())
    fail(where(ctx.file, ctx.line, key) + ": " + std::to_string(v) + " does not fit in 32 bits");
  return static_cast<int>(v);
}

// HF writes null (or omits the key) for a token id the model does not use.
int get_optional_id(const Json& j, const char* key, const JsonCtx& ctx, int absent) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return absent;
  return get_i32(j, key, ctx);
}

bool get_bool(const Json& j, const char* key, const JsonCtx& ctx) {
  auto it = j.find(key);
  if (it == j.end()) fail(where(ctx.file, ctx.line, key) + ": missing");
  if (!it->is_boolean()) fail(where(ctx.file, ctx.line, key) + ": expected true or false, got " + it->dump());
  return it->get<bool>();
}

// The preset table: one row per preset, vocab and special ids left at 0 until
// the tokenizer fills them. First guesses, tuned by the model engineer.
struct PresetRow {
  const char* name;
  int hidden, layers, heads, kv_heads, intermediate, max_pos;
  int v_hidden, v_depth, v_heads, v_intermediate, v_patch, v_image;
};
constexpr PresetRow kPresets[] = {
    // name     hidden layers heads kv  inter  maxpos | vision: hidden depth heads inter patch image
    {"tiny", 64, 2, 4, 2, 176, 512, 64, 1, 4, 128, 8, 64},
    {"small", 192, 4, 6, 2, 512, 1024, 96, 2, 4, 384, 8, 64},
    {"base", 256, 4, 8, 2, 704, 2048, 128, 2, 4, 512, 8, 64},
    {"large", 1024, 24, 16, 4, 2816, 4096, 512, 12, 8, 2048, 8, 128},
};

}  // namespace

void ModelConfig::validate() const {
  std::vector<std::string> errs;
  auto positive = [&](const char* key, long v) {
    if (v <= 0) errs.push_back("'" + std::string(key) + "' must be positive, got " + std::to_string(v));
  };
  const VisionConfig& v = vision_config;
  if (model_type != "qwen2_5_vl") errs.push_back("'model_type' must be 'qwen2_5_vl', got '" + model_type + "'");
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("intermediate_size", intermediate_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("num_key_value_heads", num_key_value_heads);
  positive("max_position_embeddings", max_position_embeddings);
  positive("vision_config.image_size", v.image_size);
  positive("vision_config.in_chans", v.in_chans);
  positive("vision_config.patch_size", v.patch_size);
  positive("vision_config.spatial_merge_size", v.spatial_merge_size);
  positive("vision_config.hidden_size", v.hidden_size);
  positive("vision_config.depth", v.depth);
  positive("vision_config.num_heads", v.num_heads);
  positive("vision_config.intermediate_size", v.intermediate_size);
  positive("vision_config.out_hidden_size", v.out_hidden_size);
  if (!(rms_norm_eps > 0)) errs.push_back("'rms_norm_eps' must be positive, got " + std::to_string(rms_norm_eps));
  if (!(rope_theta > 0)) errs.push_back("'rope_theta' must be positive, got " + std::to_string(rope_theta));
  if (torch_dtype != "float32" && torch_dtype != "float16" && torch_dtype != "bfloat16")
    errs.push_back("'torch_dtype' must be float32, float16 or bfloat16, got '" + torch_dtype + "'");

  if (hidden_size > 0 && num_attention_heads > 0) {
    if (hidden_size % num_attention_heads != 0)
      errs.push_back("'hidden_size' " + std::to_string(hidden_size) + " is not divisible by 'num_attention_heads' " +
                     std::to_string(num_attention_heads));
    else if (head_dim() % 2 != 0)
      errs.push_back("head dim 'hidden_size'/'num_attention_heads' = " + std::to_string(head_dim()) +
                     " must be even for RoPE");
  }
  if (num_attention_heads > 0 && num_key_value_heads > 0 && num_attention_heads % num_key_value_heads != 0)
    errs.push_back("'num_attention_heads' " + std::to_string(num_attention_heads) +
                   " is not divisible by 'num_key_value_heads' " + std::to_string(num_key_value_heads));
  if (v.hidden_size > 0 && v.num_heads > 0 && v.hidden_size % v.num_heads != 0)
    errs.push_back("'vision_config.hidden_size' " + std::to_string(v.hidden_size) +
                   " is not divisible by 'vision_config.num_heads' " + std::to_string(v.num_heads));
  if (v.image_size > 0 && v.patch_size > 0) {
    if (v.image_size % v.patch_size != 0)
      errs.push_back("'vision_config.image_size' " + std::to_string(v.image_size) +
                     " is not divisible by 'vision_config.patch_size' " + std::to_string(v.patch_size));
    // num_patches() squares patches_per_side() in an int: refuse what does not fit
    // before any accessor computes it.
    else if (int64_t{v.patches_per_side()} * v.patches_per_side() > std::numeric_limits<int>::max())
      errs.push_back("'vision_config.image_size'/'vision_config.patch_size' = " +
                     std::to_string(v.patches_per_side()) + " patches per side: too many patches for one image");
    else if (v.spatial_merge_size > 0 && v.patches_per_side() % v.spatial_merge_size != 0)
      errs.push_back("patches per side ('vision_config.image_size'/'vision_config.patch_size' = " +
                     std::to_string(v.patches_per_side()) + ") is not divisible by 'vision_config.spatial_merge_size' " +
                     std::to_string(v.spatial_merge_size));
    else if (v.spatial_merge_size > 0 && max_position_embeddings > 0 &&
             v.num_image_tokens() >= max_position_embeddings)
      errs.push_back("an image's " + std::to_string(v.num_image_tokens()) +
                     " tokens do not fit in 'max_position_embeddings' " + std::to_string(max_position_embeddings));
  }
  if (v.out_hidden_size != hidden_size)
    errs.push_back("'vision_config.out_hidden_size' " + std::to_string(v.out_hidden_size) +
                   " must equal 'hidden_size' " + std::to_string(hidden_size) + " (the merger feeds the decoder)");
  if (vocab_size > 0) {
    auto id_ok = [&](const char* key, int id, bool may_be_absent) {
      if (may_be_absent && id == -1) return;
      if (id < 0 || id >= vocab_size)
        errs.push_back("'" + std::string(key) + "' " + std::to_string(id) + " is outside the vocabulary [0, " +
                       std::to_string(vocab_size) + ")");
    };
    id_ok("pad_token_id", pad_token_id, true);
    id_ok("bos_token_id", bos_token_id, true);
    id_ok("eos_token_id", eos_token_id, false);
    id_ok("image_token_id", image_token_id, false);
    id_ok("vision_start_token_id", vision_start_token_id, false);
    id_ok("vision_end_token_id", vision_end_token_id, false);
  }
  if (!errs.empty()) {
    std::string msg = "invalid model config";
    if (!preset.empty()) msg += " (preset '" + preset + "')";
    msg += ": ";
    for (size_t i = 0; i < errs.size(); ++i) msg += (i ? "; " : "") + errs[i];
    fail(msg);
  }
}

Json ModelConfig::to_json() const {
  const VisionConfig& v = vision_config;
  auto id = [](int x) { return x < 0 ? Json(nullptr) : Json(x); };
  return Json{
      {"architectures", Json::array({kArchitecture})},
      {"model_type", model_type},
      {"medforget_preset", preset},
      {"hidden_size", hidden_size},
      {"intermediate_size", intermediate_size},
      {"num_hidden_layers", num_hidden_layers},
      {"num_attention_heads", num_attention_heads},
      {"num_key_value_heads", num_key_value_heads},
      {"max_position_embeddings", max_position_embeddings},
      {"rms_norm_eps", rms_norm_eps},
      {"rope_theta", rope_theta},
      {"vocab_size", vocab_size},
      {"tie_word_embeddings", tie_word_embeddings},
      {"torch_dtype", torch_dtype},
      {"hidden_act", "silu"},
      {"pad_token_id", id(pad_token_id)},
      {"bos_token_id", id(bos_token_id)},
      {"eos_token_id", eos_token_id},
      {"image_token_id", image_token_id},
      {"vision_start_token_id", vision_start_token_id},
      {"vision_end_token_id", vision_end_token_id},
      {"vision_config",
       {{"depth", v.depth},
        {"hidden_size", v.hidden_size},
        {"intermediate_size", v.intermediate_size},
        {"num_heads", v.num_heads},
        {"in_chans", v.in_chans},
        {"patch_size", v.patch_size},
        {"spatial_merge_size", v.spatial_merge_size},
        {"out_hidden_size", v.out_hidden_size},
        {"image_size", v.image_size},
        {"hidden_act", "silu"}}},
  };
}

ModelConfig ModelConfig::from_json(const Json& j, const std::string& file) {
  JsonCtx ctx{file, 0};
  if (!j.is_object()) fail(file + ": model config must be a JSON object");
  ModelConfig c;
  c.model_type = get_string(j, "model_type", ctx);
  if (auto it = j.find("architectures"); it != j.end()) {
    bool found = false;
    for (const auto& a : get_string_array(j, "architectures", ctx)) found = found || a == kArchitecture;
    if (!found)
      fail(where(file, 0, "architectures") + ": expected [\"" + kArchitecture + "\"], got " + it->dump());
  }
  if (auto it = j.find("medforget_preset"); it != j.end() && !it->is_null())
    c.preset = get_string(j, "medforget_preset", ctx);
  c.hidden_size = get_i32(j, "hidden_size", ctx);
  c.intermediate_size = get_i32(j, "intermediate_size", ctx);
  c.num_hidden_layers = get_i32(j, "num_hidden_layers", ctx);
  c.num_attention_heads = get_i32(j, "num_attention_heads", ctx);
  c.num_key_value_heads = get_i32(j, "num_key_value_heads", ctx);
  c.max_position_embeddings = get_i32(j, "max_position_embeddings", ctx);
  c.rms_norm_eps = get_number(j, "rms_norm_eps", ctx);
  c.rope_theta = get_number(j, "rope_theta", ctx);
  c.vocab_size = get_i32(j, "vocab_size", ctx);
  c.tie_word_embeddings = get_bool(j, "tie_word_embeddings", ctx);
  if (j.contains("torch_dtype")) c.torch_dtype = get_string(j, "torch_dtype", ctx);
  c.pad_token_id = get_optional_id(j, "pad_token_id", ctx, -1);
  c.bos_token_id = get_optional_id(j, "bos_token_id", ctx, -1);
  c.eos_token_id = get_i32(j, "eos_token_id", ctx);
  c.image_token_id = get_i32(j, "image_token_id", ctx);
  c.vision_start_token_id = get_i32(j, "vision_start_token_id", ctx);
  c.vision_end_token_id = get_i32(j, "vision_end_token_id", ctx);

  const Json& vj = get_object(j, "vision_config", ctx);
  JsonCtx vctx{file + ": vision_config", 0};
  VisionConfig& v = c.vision_config;
  v.depth = get_i32(vj, "depth", vctx);
  v.hidden_size = get_i32(vj, "hidden_size", vctx);
  v.intermediate_size = get_i32(vj, "intermediate_size", vctx);
  v.num_heads = get_i32(vj, "num_heads", vctx);
  v.in_chans = get_i32(vj, "in_chans", vctx);
  v.patch_size = get_i32(vj, "patch_size", vctx);
  v.spatial_merge_size = get_i32(vj, "spatial_merge_size", vctx);
  v.out_hidden_size = get_i32(vj, "out_hidden_size", vctx);
  v.image_size = get_i32(vj, "image_size", vctx);
  return c;
}

ModelConfig model_preset(const std::string& name) {
  for (const auto& r : kPresets) {
    if (name != r.name) continue;
    ModelConfig c;
    c.preset = r.name;
    c.hidden_size = r.hidden;
    c.num_hidden_layers = r.layers;
    c.num_attention_heads = r.heads;
    c.num_key_value_heads = r.kv_heads;
    c.intermediate_size = r.intermediate;
    c.max_position_embeddings = r.max_pos;
    c.vocab_size = 0;
    c.pad_token_id = 0;
    c.bos_token_id = -1;
    c.eos_token_id = 0;
    c.image_token_id = c.vision_start_token_id = c.vision_end_token_id = 0;
    VisionConfig& v = c.vision_config;
    v.hidden_size = r.v_hidden;
    v.depth = r.v_depth;
    v.num_heads = r.v_heads;
    v.intermediate_size = r.v_intermediate;
    v.patch_size = r.v_patch;
    v.image_size = r.v_image;
    v.in_chans = 1;
    v.spatial_merge_size = 2;
    v.out_hidden_size = r.hidden;
    return c;
  }
  std::string known;
  for (const auto& n : model_preset_names()) known += (known.empty() ? "" : ", ") + n;
  fail("unknown model preset '" + name + "' (known: " + known + ")");
}

const std::vector<std::string>& model_preset_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& r : kPresets) v.push_back(r.name);
    return v;
  }();
  return names;
}

ModelConfig model_preset_with_ids(const std::string& name, int vocab_size) {
  ModelConfig c = model_preset(name);
  c.vocab_size = vocab_size;
  c.pad_token_id = 0;
  c.eos_token_id = 2;
  c.vision_start_token_id = 3;
  c.vision_end_token_id = 4;
  c.image_token_id = 5;
  return c;
}

}  // namespace medforget
