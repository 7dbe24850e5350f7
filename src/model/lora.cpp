#include "model/lora.hpp"

#include <cmath>
#include <regex>
#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "model/arch_names.hpp"
#include "model/checkpoint.hpp"
#include "model/safetensors.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

bool ends_with_module(const std::string& name, const std::string& t) {
  return name == t || (name.size() > t.size() && name.compare(name.size() - t.size(), t.size(), t) == 0 &&
                       name[name.size() - t.size() - 1] == '.');
}

double number_in(const std::string& key, const std::string& v) {
  try {
    size_t used = 0;
    double x = std::stod(v, &used);
    if (used == v.size() && std::isfinite(x)) return x;
  } catch (const std::exception&) {
  }
  fail("--lora: " + key + "=" + v + " is not a number");
}

std::vector<TapLinearImpl*> adapted(MultimodalModel& model) {
  std::vector<TapLinearImpl*> out;
  for (const auto& item : model->named_modules("", false))
    if (auto* lin = item.value()->as<TapLinearImpl>(); lin && lin->lora_A) out.push_back(lin);
  return out;
}

}  // namespace

double LoraConfig::scaling() const { return use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / r; }

LoraConfig LoraConfig::parse(const std::string& spec) {
  LoraConfig c;
  std::string rest = spec;
  bool targets_given = false;
  while (!rest.empty()) {
    std::string item;
    const size_t eq = rest.find('=');
    if (eq == std::string::npos) fail("--lora: '" + rest + "' is not key=value (keys: r, alpha, dropout, targets)");
    const std::string key = rest.substr(0, eq);
    if (key == "targets") {  // the rest of the spec
      item = rest.substr(eq + 1);
      rest.clear();
      c.targets.clear();
      size_t s = 0;
      while (s <= item.size()) {
        size_t e = item.find(',', s);
        if (e == std::string::npos) e = item.size();
        std::string t = item.substr(s, e - s);
        if (t.empty()) fail("--lora: targets holds an empty module name");
        if (t.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") != std::string::npos)
          fail("--lora: target '" + t + "' is not a module name");
        c.targets.push_back(t);
        s = e + 1;
      }
      targets_given = true;
      continue;
    }
    const size_t comma = rest.find(',', eq);
    const std::string value = rest.substr(eq + 1, comma == std::string::npos ? std::string::npos : comma - eq - 1);
    rest = comma == std::string::npos ? "" : rest.substr(comma + 1);
    if (key == "r") {
      const double r = number_in(key, value);
      if (r < 1 || r > 4096 || r != std::floor(r)) fail("--lora: r must be an integer in [1, 4096], got " + value);
      c.r = static_cast<int>(r);
    } else if (key == "alpha") {
      c.alpha = number_in(key, value);
      if (!(c.alpha > 0)) fail("--lora: alpha must be positive, got " + value);
    } else if (key == "dropout") {
      c.dropout = number_in(key, value);
      if (!(c.dropout >= 0 && c.dropout < 1)) fail("--lora: dropout must be in [0, 1), got " + value);
    } else {
      fail("--lora: unknown key '" + key + "' (keys: r, alpha, dropout, targets)");
    }
  }
  (void)targets_given;
  return c;
}

LoraConfig LoraConfig::from_adapter_config(const Json& j, const std::string& file) {
  const JsonCtx ctx{file, 0};
  LoraConfig c;
  if (get_string(j, "peft_type", ctx) != "LORA") fail(file + ": peft_type '" + j["peft_type"].dump() + "' is not LORA");
  c.r = static_cast<int>(get_int(j, "r", ctx));
  c.alpha = get_number(j, "lora_alpha", ctx);
  c.dropout = j.contains("lora_dropout") ? get_number(j, "lora_dropout", ctx) : 0.0;
  if (c.r < 1) fail(file + ": r must be positive");
  auto refuse = [&](const char* key, bool bad, const std::string& why) {
    if (bad) fail(file + ": '" + key + "' " + why + " is not supported");
  };
  refuse("use_dora", j.value("use_dora", false), "(DoRA)");
  refuse("fan_in_fan_out", j.value("fan_in_fan_out", false), "(Conv1D-style weights)");
  refuse("bias", j.contains("bias") && j["bias"].is_string() && j["bias"] != "none", "other than \"none\"");
  refuse("rank_pattern", j.contains("rank_pattern") && j["rank_pattern"].is_object() && !j["rank_pattern"].empty(),
         "(per-module ranks)");
  refuse("alpha_pattern", j.contains("alpha_pattern") && j["alpha_pattern"].is_object() && !j["alpha_pattern"].empty(),
         "(per-module alphas)");
  refuse("layers_to_transform", j.contains("layers_to_transform") && !j["layers_to_transform"].is_null(), "");
  c.use_rslora = j.value("use_rslora", false);
  const Json& t = j.at("target_modules");
  if (t.is_string()) {
    c.target_regex = t.get<std::string>();
    c.targets.clear();
  } else if (t.is_array()) {
    c.targets = get_string_array(j, "target_modules", ctx);
  } else {
    fail(file + ": 'target_modules' must be a list of names or a regular expression");
  }
  return c;
}

Json LoraConfig::adapter_config(const std::string& base_model) const {
  Json t = target_regex.empty() ? Json(targets) : Json(target_regex);
  return Json{{"peft_type", "LORA"},
              {"auto_mapping", {{"base_model_class", "Qwen2_5_VLForConditionalGeneration"},
                                {"parent_library", "transformers.models.qwen2_5_vl.modeling_qwen2_5_vl"}}},
              {"base_model_name_or_path", base_model},
              {"r", r},
              {"lora_alpha", alpha},
              {"lora_dropout", dropout},
              {"target_modules", t},
              {"bias", "none"},
              {"fan_in_fan_out", false},
              {"use_rslora", use_rslora},
              {"use_dora", false},
              {"init_lora_weights", true},
              {"inference_mode", true},
              {"modules_to_save", nullptr},
              {"task_type", nullptr}};
}

bool LoraConfig::matches(const std::string& module) const {
  if (!target_regex.empty()) {
    const std::regex re(target_regex);
    return std::regex_match(module, re) || std::regex_match(arch::to_transformers5(module), re);
  }
  for (const auto& t : targets)
    if (ends_with_module(module, t)) return true;
  return false;
}

std::vector<std::string> apply_lora(MultimodalModel& model, const LoraConfig& cfg) {
  std::vector<std::string> names;
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  for (const auto& item : model->named_modules("", false)) {
    auto* lin = item.value()->as<TapLinearImpl>();
    if (!lin || item.key() == arch::kLmHead || !cfg.matches(item.key())) continue;
    lin->enable_lora(cfg.r, cfg.scaling(), cfg.dropout);
    names.push_back(item.key());
  }
  if (names.empty()) {
    std::string t = cfg.target_regex;
    for (const auto& x : cfg.targets) t += (t.empty() ? "" : ",") + x;
    fail("LoRA: no module of the model matches the targets '" + t + "'");
  }
  return names;
}

std::vector<torch::Tensor> lora_parameters(MultimodalModel& model) {
  std::vector<torch::Tensor> out;
  for (auto* lin : adapted(model))
    if (lin->lora_active) out.push_back(lin->lora_A->weight), out.push_back(lin->lora_B->weight);
  return out;
}

bool has_lora(MultimodalModel& model) {
  for (auto* lin : adapted(model))
    if (lin->lora_active) return true;
  return false;
}

void merge_lora(MultimodalModel& model) {
  torch::NoGradGuard ng;
  for (auto* lin : adapted(model)) {
    if (!lin->lora_active) continue;
    auto delta = torch::matmul(lin->lora_B->weight.to(torch::kFloat32), lin->lora_A->weight.to(torch::kFloat32)) *
                 lin->lora_scaling;
    lin->weight.add_(delta.to(lin->weight.scalar_type()));
    lin->lora_B->weight.zero_();
    lin->lora_active = false;
  }
}

std::string peft_tensor_name(const std::string& name) {
  // "model.layers.0.self_attn.q_proj.lora_A.weight" → module + suffix
  const size_t cut = name.find(".lora_");
  return "base_model.model." + arch::to_transformers5(name.substr(0, cut)) + name.substr(cut);
}

void save_lora_adapter(MultimodalModel& model, const LoraConfig& cfg, const fs::path& dir, const std::string& base) {
  std::map<std::string, RawTensor> tensors;
  for (const auto& p : model->named_parameters())
    if (is_lora_name(p.key())) tensors.emplace(peft_tensor_name(p.key()), from_torch(p.value()));
  if (tensors.empty()) fail("LoRA: the model has no adapters to save");
  write_safetensors(dir / "adapter_model.safetensors", tensors, {{"format", "pt"}});
  write_json(dir / "adapter_config.json", cfg.adapter_config(base));
}

bool is_lora_adapter_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "adapter_config.json", ec);
}

LoraConfig load_lora_adapter(MultimodalModel& model, const fs::path& dir) {
  const fs::path cfg_file = dir / "adapter_config.json", st = dir / "adapter_model.safetensors";
  if (!fs::is_regular_file(cfg_file)) fail(cfg_file.string() + ": not found (not a PEFT adapter directory)");
  if (!fs::is_regular_file(st)) fail(st.string() + ": not found (only safetensors adapters are read)");
  const LoraConfig cfg = LoraConfig::from_adapter_config(read_json(cfg_file), cfg_file.string());
  const auto raw = read_safetensors(st);
  // Which modules the file adapts, by PEFT name.
  std::map<std::string, const RawTensor*> by_name;
  for (const auto& [n, t] : raw) by_name[n] = &t;
  std::map<std::string, TapLinearImpl*> modules;
  for (const auto& item : model->named_modules("", false))
    if (auto* lin = item.value()->as<TapLinearImpl>()) modules[item.key()] = lin;
  std::set<std::string> used;
  for (const auto& [name, lin] : modules) {
    const std::string a = peft_tensor_name(name + ".lora_A.weight"), b = peft_tensor_name(name + ".lora_B.weight");
    // transformers 4.x adapters name modules without language_model.
    const std::string a4 = "base_model.model." + name + ".lora_A.weight", b4 = "base_model.model." + name + ".lora_B.weight";
    const RawTensor* ta = by_name.count(a) ? by_name[a] : by_name.count(a4) ? by_name[a4] : nullptr;
    const RawTensor* tb = by_name.count(b) ? by_name[b] : by_name.count(b4) ? by_name[b4] : nullptr;
    if (!ta && !tb) continue;
    const std::string an = by_name.count(a) ? a : a4, bn = by_name.count(b) ? b : b4;
    if (!ta || !tb) fail(st.string() + ": '" + (ta ? an : bn) + "' has no matching " + (ta ? "lora_B" : "lora_A"));
    const std::vector<int64_t> want_a{cfg.r, lin->weight.size(1)}, want_b{lin->weight.size(0), cfg.r};
    if (ta->shape != want_a || tb->shape != want_b)
      fail(st.string() + ": tensor '" + (ta->shape != want_a ? an : bn) + "' has shape " +
           shape_string(ta->shape != want_a ? ta->shape : tb->shape) + " but module '" + name + "' of this base model needs " +
           shape_string(ta->shape != want_a ? want_a : want_b) + " (an adapter for another base model?)");
    lin->enable_lora(cfg.r, cfg.scaling(), cfg.dropout);
    torch::NoGradGuard ng;
    lin->lora_A->weight.copy_(to_torch(*ta));
    lin->lora_B->weight.copy_(to_torch(*tb));
    used.insert(an);
    used.insert(bn);
  }
  for (const auto& [n, t] : raw)
    if (!used.count(n))
      fail(st.string() + ": tensor '" + n + "' names no module of this base model (an adapter for another model?)");
  if (used.empty()) fail(st.string() + ": holds no LoRA tensors");
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  for (auto& p : lora_parameters(model)) p.set_requires_grad(true);
  return cfg;
}

}  // namespace medforget
