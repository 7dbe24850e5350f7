#include "model/config.hpp"

#include <algorithm>
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

bool get_bool(const Json& j, const char* key, const JsonCtx& ctx) {
  auto it = j.find(key);
  if (it == j.end()) fail(where(ctx.file, ctx.line, key) + ": missing");
  if (!it->is_boolean()) fail(where(ctx.file, ctx.line, key) + ": expected true or false, got " + it->dump());
  return it->get<bool>();
}

// The preset table: one row per preset, vocab and special ids left at 0 until
// the tokenizer fills them. Small configurations of Qwen2.5-VL itself: 8-pixel
// patches, 32-pixel attention windows (2×2 merged tokens), full attention in
// every fourth block and the last, as the real model's [7, 15, 23, 31].
struct PresetRow {
  const char* name;
  int hidden, layers, heads, kv_heads, intermediate, max_pos;
  int v_hidden, v_depth, v_heads, v_intermediate;
};
constexpr PresetRow kPresets[] = {
    // name     hidden layers heads kv  inter  maxpos | vision: hidden depth heads inter
    {"tiny", 64, 2, 4, 2, 176, 512, 64, 1, 4, 128},
    {"small", 192, 4, 6, 2, 512, 1024, 96, 2, 4, 384},
    {"base", 256, 4, 8, 2, 704, 2048, 128, 2, 4, 512},
    {"large", 1024, 24, 16, 4, 2816, 4096, 512, 12, 8, 2048},
};
constexpr int kPresetPatch = 8, kPresetWindow = 32, kPresetImage = 64;

std::vector<int> get_int_list(const Json& j, const char* key, const JsonCtx& ctx) {
  const Json& a = get_array(j, key, ctx);
  std::vector<int> out;
  for (const auto& x : a) {
    if (!x.is_number_integer() || x.get<int64_t>() < 0 || x.get<int64_t>() > 1 << 20)
      fail(where(ctx.file, ctx.line, key) + ": expected a list of small non-negative integers, got " + a.dump());
    out.push_back(x.get<int>());
  }
  return out;
}

}  // namespace

bool VisionConfig::full_attention(int block) const {
  return std::find(fullatt_block_indexes.begin(), fullatt_block_indexes.end(), block) != fullatt_block_indexes.end();
}

void ModelConfig::validate() const {
  std::vector<std::string> errs;
  auto positive = [&](const std::string& key, long v) {
    if (v <= 0) errs.push_back("'" + key + "' must be positive, got " + std::to_string(v));
  };
  auto num = [](auto x) { return std::to_string(x); };
  const VisionConfig& v = vision_config;
  if (model_type != "qwen2_5_vl") errs.push_back("'model_type' must be 'qwen2_5_vl', got '" + model_type + "'");
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("intermediate_size", intermediate_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  positive("num_key_value_heads", num_key_value_heads);
  positive("max_position_embeddings", max_position_embeddings);
  positive("vision_config.depth", v.depth);
  positive("vision_config.hidden_size", v.hidden_size);
  positive("vision_config.intermediate_size", v.intermediate_size);
  positive("vision_config.num_heads", v.num_heads);
  positive("vision_config.patch_size", v.patch_size);
  positive("vision_config.temporal_patch_size", v.temporal_patch_size);
  positive("vision_config.spatial_merge_size", v.spatial_merge_size);
  positive("vision_config.out_hidden_size", v.out_hidden_size);
  positive("vision_config.window_size", v.window_size);
  for (auto [key, val] : {std::pair{"vision_config.patch_size", v.patch_size},
                          std::pair{"vision_config.temporal_patch_size", v.temporal_patch_size},
                          std::pair{"vision_config.spatial_merge_size", v.spatial_merge_size}})
    if (val > 64) errs.push_back("'" + std::string(key) + "' " + num(val) + " is implausibly large (at most 64)");
  if (v.in_channels != 3)
    errs.push_back("'vision_config.in_channels' must be 3 (RGB, as the image processor gives), got " +
                   num(v.in_channels));
  if (!(rms_norm_eps > 0)) errs.push_back("'rms_norm_eps' must be positive, got " + num(rms_norm_eps));
  if (!(rope_theta > 0)) errs.push_back("'rope_theta' must be positive, got " + num(rope_theta));
  if (!(v.rope_theta > 0)) errs.push_back("'vision_config.rope_theta' must be positive, got " + num(v.rope_theta));
  if (torch_dtype != "float32" && torch_dtype != "float16" && torch_dtype != "bfloat16")
    errs.push_back("'torch_dtype' must be float32, float16 or bfloat16, got '" + torch_dtype + "'");

  if (hidden_size > 0 && num_attention_heads > 0) {
    if (hidden_size % num_attention_heads != 0) {
      errs.push_back("'hidden_size' " + num(hidden_size) + " is not divisible by 'num_attention_heads' " +
                     num(num_attention_heads));
    } else if (head_dim() % 2 != 0) {
      errs.push_back("head dim 'hidden_size'/'num_attention_heads' = " + num(head_dim()) + " must be even for RoPE");
    } else {
      long sum = 0;
      bool ok = mrope_section.size() == 3;
      for (int s : mrope_section) ok = ok && s > 0, sum += s;
      if (!ok || sum != head_dim() / 2) {
        std::string got;
        for (int s : mrope_section) got += (got.empty() ? "" : ", ") + num(s);
        errs.push_back("'mrope_section' [" + got + "] must be 3 positive numbers summing to head_dim/2 = " +
                       num(head_dim() / 2));
      }
    }
  }
  if (num_attention_heads > 0 && num_key_value_heads > 0 && num_attention_heads % num_key_value_heads != 0)
    errs.push_back("'num_attention_heads' " + num(num_attention_heads) + " is not divisible by 'num_key_value_heads' " +
                   num(num_key_value_heads));
  if (v.hidden_size > 0 && v.num_heads > 0) {
    if (v.hidden_size % v.num_heads != 0)
      errs.push_back("'vision_config.hidden_size' " + num(v.hidden_size) + " is not divisible by 'vision_config.num_heads' " +
                     num(v.num_heads));
    else if (v.head_dim() % 4 != 0)
      errs.push_back("vision head dim " + num(v.head_dim()) + " must be divisible by 4 (2D rotary: rows and columns)");
  }
  if (v.patch_size > 0 && v.spatial_merge_size > 0 && v.window_size > 0 &&
      v.window_size % (int64_t{v.patch_size} * v.spatial_merge_size) != 0)
    errs.push_back("'vision_config.window_size' " + num(v.window_size) +
                   " must be a multiple of patch_size × spatial_merge_size = " +
                   num(int64_t{v.patch_size} * v.spatial_merge_size));
  for (int b : v.fullatt_block_indexes)
    if (b < 0 || b >= v.depth)
      errs.push_back("'vision_config.fullatt_block_indexes' names block " + num(b) + ", outside [0, " + num(v.depth) + ")");
  if (v.out_hidden_size != hidden_size)
    errs.push_back("'vision_config.out_hidden_size' " + num(v.out_hidden_size) + " must equal 'hidden_size' " +
                   num(hidden_size) + " (the merger feeds the decoder)");
  const ImageProcessorConfig& p = image_processor;
  if (p.patch_size != v.patch_size || p.merge_size != v.spatial_merge_size ||
      p.temporal_patch_size != v.temporal_patch_size)
    errs.push_back("the image processor's patch_size/merge_size/temporal_patch_size " + num(p.patch_size) + "/" +
                   num(p.merge_size) + "/" + num(p.temporal_patch_size) + " disagree with the vision tower's " +
                   num(v.patch_size) + "/" + num(v.spatial_merge_size) + "/" + num(v.temporal_patch_size));
  else if (v.patch_size > 0 && v.spatial_merge_size > 0 && v.patch_size <= 64 && v.spatial_merge_size <= 64 &&
           max_position_embeddings > 0) {  // bounded: the product below cannot overflow
    const int64_t unit = int64_t{v.patch_size} * v.spatial_merge_size;
    if (p.max_pixels / (unit * unit) >= max_position_embeddings)
      errs.push_back("an image of max_pixels " + num(p.max_pixels) + " gives " + num(p.max_pixels / (unit * unit)) +
                     " tokens, more than 'max_position_embeddings' " + num(max_position_embeddings) + " allows");
  }
  if (vocab_size > 0) {
    auto id_ok = [&](const char* key, int id, bool may_be_absent) {
      if (may_be_absent && id == -1) return;
      if (id < 0 || id >= vocab_size)
        errs.push_back("'" + std::string(key) + "' " + num(id) + " is outside the vocabulary [0, " + num(vocab_size) + ")");
    };
    id_ok("pad_token_id", pad_token_id, true);
    id_ok("bos_token_id", bos_token_id, true);
    id_ok("eos_token_id", eos_token_id, false);
    id_ok("image_token_id", image_token_id, false);
    id_ok("vision_start_token_id", vision_start_token_id, false);
    id_ok("vision_end_token_id", vision_end_token_id, false);
    id_ok("video_token_id", video_token_id, true);
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
  Json j{
      {"architectures", Json::array({kArchitecture})},
      {"model_type", model_type},
      {"hidden_size", hidden_size},
      {"intermediate_size", intermediate_size},
      {"num_hidden_layers", num_hidden_layers},
      {"num_attention_heads", num_attention_heads},
      {"num_key_value_heads", num_key_value_heads},
      {"max_position_embeddings", max_position_embeddings},
      {"max_window_layers", num_hidden_layers},
      {"rms_norm_eps", rms_norm_eps},
      {"rope_theta", rope_theta},
      {"rope_scaling", {{"type", "mrope"}, {"rope_type", "default"}, {"mrope_section", mrope_section}}},
      {"use_sliding_window", false},
      {"sliding_window", nullptr},
      {"attention_dropout", 0.0},
      {"vocab_size", vocab_size},
      {"tie_word_embeddings", tie_word_embeddings},
      {"torch_dtype", torch_dtype},
      {"hidden_act", "silu"},
      {"use_cache", true},
      {"pad_token_id", id(pad_token_id)},
      {"bos_token_id", id(bos_token_id)},
      {"eos_token_id", eos_token_id},
      {"image_token_id", image_token_id},
      {"video_token_id", id(video_token_id)},
      {"vision_start_token_id", vision_start_token_id},
      {"vision_end_token_id", vision_end_token_id},
      {"vision_config",
       {{"depth", v.depth},
        {"hidden_size", v.hidden_size},
        {"intermediate_size", v.intermediate_size},
        {"num_heads", v.num_heads},
        {"in_chans", v.in_channels},
        {"in_channels", v.in_channels},
        {"patch_size", v.patch_size},
        {"spatial_patch_size", v.patch_size},
        {"temporal_patch_size", v.temporal_patch_size},
        {"spatial_merge_size", v.spatial_merge_size},
        {"out_hidden_size", v.out_hidden_size},
        {"window_size", v.window_size},
        {"fullatt_block_indexes", v.fullatt_block_indexes},
        {"tokens_per_second", v.tokens_per_second},
        {"hidden_act", "silu"},
        {"model_type", "qwen2_5_vl"}}},
  };
  if (!preset.empty()) j["medforget_preset"] = preset;
  return j;
}

namespace {

// A key of the text model: transformers 5.x nests it in text_config, 4.x keeps it
// at the top level (and some 4.x files have both; the nested one wins).
struct TextKeys {
  const Json& top;
  const Json* text;
  JsonCtx ctx, tctx;
  const Json& holder(const char* key) const { return text && text->contains(key) ? *text : top; }
  const JsonCtx& ctx_of(const char* key) const { return text && text->contains(key) ? tctx : ctx; }
  bool has(const char* key) const { return holder(key).contains(key); }
  const Json& at(const char* key) const { return holder(key).at(key); }
};

int first_id(const TextKeys& k, const char* key, int absent) {
  if (!k.has(key) || k.at(key).is_null()) return absent;
  const Json& v = k.at(key);
  if (v.is_array()) {  // generation configs list several eos ids; the model's own is the first
    if (v.empty() || !v[0].is_number_integer())
      fail(where(k.ctx_of(key).file, 0, key) + ": expected a token id or a list of them, got " + v.dump());
    return v[0].get<int>();
  }
  return get_i32(k.holder(key), key, k.ctx_of(key));
}

void read_rope(const TextKeys& k, ModelConfig& c) {
  // 5.x: rope_parameters {rope_type, rope_theta, mrope_section}; 4.x: rope_theta and
  // rope_scaling {type: "mrope" | "default", mrope_section}.
  const char* key = k.has("rope_parameters") ? "rope_parameters" : "rope_scaling";
  if (!k.has(key) || k.at(key).is_null())
    fail(k.ctx.file + ": no 'rope_parameters' or 'rope_scaling' with 'mrope_section': Qwen2.5-VL's multimodal RoPE needs it");
  const Json& r = get_object(k.holder(key), key, k.ctx_of(key));
  JsonCtx rctx{k.ctx_of(key).file + ": " + key, 0};
  for (const char* t : {"rope_type", "type"}) {
    if (!r.contains(t)) continue;
    const std::string type = get_string(r, t, rctx);
    if (type != "default" && type != "mrope")
      fail(where(rctx.file, 0, t) + ": rope type '" + type + "' is not supported (medforget computes Qwen2.5-VL's "
           "multimodal RoPE without scaling)");
  }
  c.mrope_section = get_int_list(r, "mrope_section", rctx);
  if (r.contains("rope_theta")) c.rope_theta = get_number(r, "rope_theta", rctx);
  else c.rope_theta = get_number(k.holder("rope_theta"), "rope_theta", k.ctx_of("rope_theta"));
}

void read_vision(const Json& vj, const std::string& file, VisionConfig& v) {
  JsonCtx ctx{file + ": vision_config", 0};
  auto opt = [&](const char* key, int& field) {
    if (vj.contains(key) && !vj.at(key).is_null()) field = get_i32(vj, key, ctx);
  };
  v.depth = get_i32(vj, "depth", ctx);
  v.hidden_size = get_i32(vj, "hidden_size", ctx);
  v.intermediate_size = get_i32(vj, "intermediate_size", ctx);
  v.num_heads = get_i32(vj, "num_heads", ctx);
  v.out_hidden_size = get_i32(vj, "out_hidden_size", ctx);
  v.patch_size = get_i32(vj, "patch_size", ctx);
  // transformers' defaults for the keys older files leave out.
  v.in_channels = 3, v.temporal_patch_size = 2, v.spatial_merge_size = 2, v.window_size = 112;
  v.tokens_per_second = 4, v.fullatt_block_indexes = {7, 15, 23, 31};
  opt("in_chans", v.in_channels);
  opt("in_channels", v.in_channels);
  opt("temporal_patch_size", v.temporal_patch_size);
  opt("spatial_merge_size", v.spatial_merge_size);
  opt("window_size", v.window_size);
  opt("tokens_per_second", v.tokens_per_second);
  if (vj.contains("fullatt_block_indexes")) v.fullatt_block_indexes = get_int_list(vj, "fullatt_block_indexes", ctx);
  if (vj.contains("hidden_act") && get_string(vj, "hidden_act", ctx) != "silu")
    fail(where(ctx.file, 0, "hidden_act") + ": '" + get_string(vj, "hidden_act", ctx) +
         "' is not supported (Qwen2.5-VL's vision MLP is gated SiLU)");
  if (vj.contains("rope_parameters") && vj.at("rope_parameters").is_object() &&
      vj.at("rope_parameters").contains("rope_theta"))
    v.rope_theta = get_number(vj.at("rope_parameters"), "rope_theta", ctx);
}

}  // namespace

ModelConfig ModelConfig::from_json(const Json& j, const std::string& file) {
  JsonCtx ctx{file, 0};
  if (!j.is_object()) fail(file + ": model config must be a JSON object");
  ModelConfig c;
  c.model_type = get_string(j, "model_type", ctx);
  if (c.model_type != "qwen2_5_vl")
    fail(where(file, 0, "model_type") + ": '" + c.model_type +
         "' is not a Qwen2.5-VL checkpoint (medforget runs model_type 'qwen2_5_vl': Qwen2.5-VL, Lingshu and their fine-tunes)");
  if (auto it = j.find("architectures"); it != j.end() && !it->is_null()) {
    bool found = false;
    for (const auto& a : get_string_array(j, "architectures", ctx)) found = found || a == kArchitecture;
    if (!found) fail(where(file, 0, "architectures") + ": expected [\"" + kArchitecture + "\"], got " + it->dump());
  }
  if (auto it = j.find("medforget_preset"); it != j.end() && !it->is_null())
    c.preset = get_string(j, "medforget_preset", ctx);
  const Json* text = nullptr;
  if (auto it = j.find("text_config"); it != j.end() && !it->is_null()) text = &get_object(j, "text_config", ctx);
  TextKeys k{j, text, ctx, JsonCtx{file + ": text_config", 0}};
  auto i32 = [&](const char* key) { return get_i32(k.holder(key), key, k.ctx_of(key)); };
  c.hidden_size = i32("hidden_size");
  c.intermediate_size = i32("intermediate_size");
  c.num_hidden_layers = i32("num_hidden_layers");
  c.num_attention_heads = i32("num_attention_heads");
  c.num_key_value_heads = i32("num_key_value_heads");
  c.max_position_embeddings = i32("max_position_embeddings");
  c.vocab_size = i32("vocab_size");
  c.rms_norm_eps = get_number(k.holder("rms_norm_eps"), "rms_norm_eps", k.ctx_of("rms_norm_eps"));
  read_rope(k, c);
  // The top level decides tying for the whole model in both layouts.
  c.tie_word_embeddings = j.contains("tie_word_embeddings") ? get_bool(j, "tie_word_embeddings", ctx)
                          : k.has("tie_word_embeddings") ? get_bool(k.holder("tie_word_embeddings"), "tie_word_embeddings",
                                                                    k.ctx_of("tie_word_embeddings"))
                                                         : false;
  for (const char* key : {"torch_dtype", "dtype"})
    if (j.contains(key) && !j.at(key).is_null()) c.torch_dtype = get_string(j, key, ctx);
  if (k.has("hidden_act") && get_string(k.holder("hidden_act"), "hidden_act", k.ctx_of("hidden_act")) != "silu")
    fail(where(k.ctx_of("hidden_act").file, 0, "hidden_act") + ": only 'silu' (Qwen2's) is supported");
  if (k.has("use_sliding_window") && k.at("use_sliding_window").is_boolean() && k.at("use_sliding_window").get<bool>())
    fail(where(k.ctx_of("use_sliding_window").file, 0, "use_sliding_window") +
         ": sliding-window attention in the decoder is not supported (no released Qwen2.5-VL uses it)");
  c.pad_token_id = first_id(k, "pad_token_id", -1);
  c.bos_token_id = first_id(k, "bos_token_id", -1);
  c.eos_token_id = first_id(k, "eos_token_id", -2);
  if (c.eos_token_id == -2) fail(where(file, 0, "eos_token_id") + ": missing");
  c.image_token_id = first_id(k, "image_token_id", -2);
  c.vision_start_token_id = first_id(k, "vision_start_token_id", -2);
  c.vision_end_token_id = first_id(k, "vision_end_token_id", -2);
  c.video_token_id = first_id(k, "video_token_id", -1);
  for (auto [key, v] : {std::pair{"image_token_id", c.image_token_id}, std::pair{"vision_start_token_id", c.vision_start_token_id},
                        std::pair{"vision_end_token_id", c.vision_end_token_id}})
    if (v == -2) fail(where(file, 0, key) + ": missing");
  read_vision(get_object(j, "vision_config", ctx), file, c.vision_config);
  // Until preprocessor_config.json is read: the processor that fits the tower.
  c.image_processor.patch_size = c.vision_config.patch_size;
  c.image_processor.merge_size = c.vision_config.spatial_merge_size;
  c.image_processor.temporal_patch_size = c.vision_config.temporal_patch_size;
  return c;
}

std::vector<int> default_mrope_section(int head_dim) {
  const int half = head_dim / 2, t = half / 4, h = (half - t) / 2;
  return {t, h, half - t - h};
}

ImageProcessorConfig testbed_image_processor(const VisionConfig& v, int image_size) {
  ImageProcessorConfig p;
  p.patch_size = v.patch_size;
  p.merge_size = v.spatial_merge_size;
  p.temporal_patch_size = v.temporal_patch_size;
  const int64_t unit = int64_t{v.patch_size} * v.spatial_merge_size;
  p.max_pixels = int64_t{image_size} * image_size;
  p.min_pixels = std::min(p.max_pixels, unit * unit);
  return p;
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
    c.mrope_section = default_mrope_section(r.hidden / r.heads);
    c.vocab_size = 0;
    c.pad_token_id = 0;
    c.bos_token_id = -1;
    c.eos_token_id = 0;
    c.image_token_id = c.vision_start_token_id = c.vision_end_token_id = 0;
    c.video_token_id = -1;
    VisionConfig& v = c.vision_config;
    v.hidden_size = r.v_hidden;
    v.depth = r.v_depth;
    v.num_heads = r.v_heads;
    v.intermediate_size = r.v_intermediate;
    v.patch_size = kPresetPatch;
    v.window_size = kPresetWindow;
    v.in_channels = 3;
    v.temporal_patch_size = 2;
    v.spatial_merge_size = 2;
    v.out_hidden_size = r.hidden;
    v.fullatt_block_indexes.clear();
    for (int b = 0; b < r.v_depth; ++b)
      if ((b + 1) % 4 == 0 || b == r.v_depth - 1) v.fullatt_block_indexes.push_back(b);
    c.image_processor = testbed_image_processor(v, kPresetImage);
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
