#include "pipeline/run_config.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/ranges.hpp"
#include "data/hierarchy.hpp"
#include "data/preset.hpp"
#include "eval/result_header.hpp"

namespace medforget {

Json RunConfig::to_json() const {
  Json vs = Json::array();
  for (const auto& v : variants)
    vs.push_back({{"name", v.name}, {"method", v.method}, {"label", v.label}, {"options", v.options}});
  return {{"preset", preset},     {"model_preset", model_preset}, {"device", device},       {"seed", seed},
          {"levels", levels},     {"methods", vs},                {"attack", attack},       {"mia", mia},
          {"finetune", finetune}, {"eval_limit", eval_limit}, {"corpus", corpus}, {"corpus_digest", corpus_digest},
          {"regime", regime},     {"pretrain", pretrain}};
}

static std::string model_for(const std::string& preset) {
  if (preset == "paper") return "base";
  return preset;  // tiny -> tiny, small -> small
}

namespace {

// CHIP on half of each tapped Linear's neurons in every decoder layer, plus
// `extra` (an ablation switch).
Json wide_chip(Json extra = Json::object()) {
  Json o = {{"k", 0.5}, {"layer_fraction", 1.0}};
  for (const auto& [k, v] : extra.items()) o[k] = v;
  return o;
}

}  // namespace

const RegimeFinetune& regime_finetune_defaults(const std::string& model_preset) {
  static const std::pair<const char*, RegimeFinetune> table[] = {
      {"tiny", {"r=16,alpha=32,dropout=0", 30, 3e-3}},
      {"small", {"r=16,alpha=32,dropout=0", 20, 3e-3}},
      {"base", {"r=16,alpha=32,dropout=0", 20, 2e-3}},
      {"large", {"r=16,alpha=32,dropout=0.05", 10, 1e-3}}};
  for (const auto& [name, d] : table)
    if (model_preset == name) return d;
  fail("model preset '" + model_preset + "' (expected tiny, small, base or large)");
}

RunConfig default_run_config(const std::string& preset) {
  data_preset(preset);
  RunConfig c;
  c.preset = preset;
  c.model_preset = model_for(preset);
  // At the paper's k = 10% on the top 20% of layers CHIP leaves our 4-layer
  // models' answers intact (docs/RESULTS.md, "CHIP's settings at our scale");
  // the demo uses the setting that acts on them.
  c.variants = {{"chip_k50_all", "chip", "CHIP (k 50%, all layers)", wide_chip()},
                {"graddiff", "graddiff", "GradDiff", Json::object()}};
  return c;
}

RunConfig default_grid_config(const std::string& preset) {
  RunConfig c = default_run_config(preset);
  c.levels = {"institution", "patient", "study", "section"};
  c.mia = true;
  c.variants = {{"retrain", "retrain", "Retrain", Json::object()},
                {"graddiff", "graddiff", "GradDiff", Json::object()},
                {"kl_min", "kl_min", "KL-Min", Json::object()},
                {"npo", "npo", "NPO", Json::object()},  // reference: the level's Retrain model
                // The paper's pure NPO collapses our `base` model (docs/RESULTS.md); most
                // public NPO code adds the retain NLL.
                {"npo_rt", "npo", "NPO + retain NLL", Json{{"retain_weight", 1.0}}},
                {"manu", "manu", "MANU", Json::object()},
                // MANU at 2% of the top 20% of layers leaves `base`'s answers intact;
                // 30% of every layer's neurons acts on them (docs/RESULTS.md).
                {"manu_a30_all", "manu", "MANU (α 30%, all layers)", Json{{"alpha", 0.3}, {"layer_fraction", 1.0}}},
                {"mip_editor", "mip_editor", "MIP-Editor", Json::object()},
                {"chip", "chip", "CHIP", Json::object()},  // the paper's setting
                {"chip_k50_all", "chip", "CHIP (k 50%, all layers)", wide_chip()},
                // Table 5's ablations, of the setting that acts at our scale.
                {"chip_no_siblings", "chip", "CHIP w/o siblings", wide_chip({{"siblings", false}})},
                {"chip_lang_only", "chip", "CHIP language only", wide_chip({{"merger", false}})},
                {"chip_zero_out", "chip", "CHIP zero-out", wide_chip({{"zero_out", true}})},
                {"chip_no_separation", "chip", "CHIP w/o V/L separation", wide_chip({{"separate_modalities", false}})}};
  return c;
}

namespace {

RunVariant variant_from(const Json& j, const std::string& where) {
  RunVariant v;
  if (j.is_string()) {
    v.name = v.method = j.get<std::string>();
    v.label = method_display_name(v.name);
    return v;
  }
  if (!j.is_object()) fail(where + ": expected a method name or an object {name, method, label, options}");
  for (const auto& [k, x] : j.items())
    if (k != "name" && k != "method" && k != "label" && k != "options")
      fail(where + ": unknown field '" + k + "' (expected name, method, label, options)");
  if (!j.contains("method") || !j["method"].is_string()) fail(where + ": field 'method' missing or not a string");
  v.method = j["method"];
  auto optional_string = [&](const char* key, const std::string& absent) {
    auto it = j.find(key);
    if (it == j.end()) return absent;
    if (!it->is_string()) fail(where + ": field '" + key + "' must be a string, got " + it->dump());
    return it->get<std::string>();
  };
  v.name = optional_string("name", v.method);
  v.label = optional_string("label", method_display_name(v.name));
  v.options = j.value("options", Json::object());
  if (!v.options.is_object()) fail(where + ".options: expected an object");
  return v;
}

}  // namespace

RunConfig apply_config(RunConfig c, const Json& j, const std::string& src) {
  if (!j.is_object()) fail(src + ": a run configuration must be a JSON object");
  auto str = [&](const std::string& k) {
    if (!j[k].is_string()) fail(src + ": field '" + k + "' must be a string");
    return j[k].get<std::string>();
  };
  for (const auto& [k, v] : j.items()) {
    if (k == "preset") {
      c.preset = str(k);
      if (!j.contains("model_preset")) c.model_preset = model_for(c.preset);
    } else if (k == "model_preset") c.model_preset = str(k);
    else if (k == "device") c.device = str(k);
    else if (k == "seed") {
      if (!v.is_number_unsigned()) fail(src + ": field 'seed' must be a non-negative integer");
      c.seed = v.get<uint64_t>();
    } else if (k == "levels") {
      if (!v.is_array() || v.empty()) fail(src + ": field 'levels' must be a non-empty array of level names");
      c.levels.clear();
      for (const auto& l : v) {
        if (!l.is_string()) fail(src + ": field 'levels' must hold strings");
        c.levels.push_back(l);
      }
    } else if (k == "methods") {
      if (!v.is_array() || v.empty()) fail(src + ": field 'methods' must be a non-empty array");
      c.variants.clear();
      for (size_t i = 0; i < v.size(); ++i) c.variants.push_back(variant_from(v[i], src + ": methods[" + std::to_string(i) + "]"));
    } else if (k == "attack" || k == "mia") {
      if (!v.is_boolean()) fail(src + ": field '" + k + "' must be true or false");
      (k == "attack" ? c.attack : c.mia) = v.get<bool>();
    } else if (k == "finetune") {
      if (!v.is_object()) fail(src + ": field 'finetune' must be an object of finetune options");
      c.finetune = v;
    } else if (k == "regime") {
      c.regime = str(k);
    } else if (k == "pretrain") {
      if (!v.is_object()) fail(src + ": field 'pretrain' must be an object of pretrain options (or {\"model\": DIR})");
      c.pretrain = v;
      if (c.pretrain.contains("model") && c.pretrain["model"].is_string())
        c.pretrain["model"] = std::filesystem::absolute(c.pretrain["model"].get<std::string>()).lexically_normal().string();
    } else if (k == "corpus") {
      c.corpus = str(k).empty() ? "" : std::filesystem::absolute(str(k)).lexically_normal().string();
    } else if (k == "corpus_digest") {
      c.corpus_digest = str(k);
    } else if (k == "eval_limit") {
      if (!v.is_number_unsigned()) fail(src + ": field 'eval_limit' must be a non-negative integer");
      c.eval_limit = v.get<int>();
    } else {
      fail(src + ": unknown field '" + k +
           "' (expected preset, model_preset, device, seed, levels, methods, attack, mia, finetune, regime, pretrain, "
           "eval_limit, corpus)");
    }
  }
  return c;
}

RunConfig load_config(RunConfig base, const std::filesystem::path& file) {
  if (std::filesystem::is_directory(file)) fail(file.string() + ": is a directory, not a JSON run configuration");
  return apply_config(std::move(base), read_json(file), file.string());
}

void validate_config(const RunConfig& c, const std::vector<std::string>& known) {
  data_preset(c.preset);
  for (const auto& l : c.levels) level_from_name(l);
  std::set<std::string> names;
  for (const auto& v : c.variants) {
    if (std::find(known.begin(), known.end(), v.method) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      fail("run configuration: unknown method '" + v.method + "' (known: " + list + ")");
    }
    check_path_id(v.name, "method variant", "run configuration");
    if (!names.insert(v.name).second) fail("run configuration: method name '" + v.name + "' is used twice");
  }
  static const std::set<std::string> ft_keys{"epochs", "lr", "batch_size", "weight_decay", "warmup", "grad_clip",
                                             "vocab_size", "checkpoint_every"};
  for (const auto& [k, v] : c.finetune.items()) {
    if (k == "lora" && c.regime == "pretrained") {
      if (!v.is_string()) fail("run configuration: finetune.lora must be a LoRA spec string (r=8,alpha=16,...)");
      continue;
    }
    if (!ft_keys.count(k))
      fail("run configuration: unknown finetune option '" + k + "'" +
           (k == "lora" ? " (LoRA fine-tuning is the pretrained regime's: set \"regime\": \"pretrained\")" : ""));
    check_option("run configuration: finetune", k, v);
  }
  if (c.regime != "scratch" && c.regime != "pretrained")
    fail("run configuration: regime '" + c.regime + "' (expected scratch or pretrained)");
  if (c.regime == "scratch" && !c.pretrain.empty())
    fail("run configuration: 'pretrain' options need \"regime\": \"pretrained\"");
  static const std::set<std::string> pt_keys{"epochs", "lr", "batch_size", "corpora", "data_preset", "vocab_size",
                                             "weight_decay", "warmup", "grad_clip", "checkpoint_every"};
  for (const auto& [k, v] : c.pretrain.items()) {
    if (k == "model") {
      if (!v.is_string() || v.get<std::string>().empty())
        fail("run configuration: pretrain.model must be the path of a pretrained model directory");
      if (c.pretrain.size() > 1)
        fail("run configuration: pretrain.model reuses an existing model; other pretrain options do not apply to it");
      continue;
    }
    if (!pt_keys.count(k)) fail("run configuration: unknown pretrain option '" + k + "'");
    if (k == "data_preset") {
      if (!v.is_string()) fail("run configuration: pretrain.data_preset must be a string");
      data_preset(v.get<std::string>());
    } else if (k == "corpora") {
      if (!v.is_number_unsigned() || v.get<int>() < 1 || v.get<int>() > 1000)
        fail("run configuration: pretrain.corpora must be an integer in 1..1000");
    } else {
      check_option("run configuration: pretrain", k, v);
    }
  }
}

}  // namespace medforget
