#pragma once
// LoRA adapters in PEFT's layout. An adapted Linear computes
//   y = x Wᵀ + b + (alpha / r) · dropout(x) Aᵀ Bᵀ
// with A [r, in] (PEFT's kaiming-uniform start) and B [out, r] (zeros), as
// peft.tuners.lora does. Adapters live inside the model's TapLinears under
// "<module>.lora_A.weight" / "<module>.lora_B.weight"; they are kept out of
// checkpoints (expected_shapes, save_model) and saved as PEFT's
// adapter_config.json + adapter_model.safetensors, or folded into the weights
// (merge). Target modules follow PEFT's rules: a list matches a module whose
// name ends with ".<entry>", a string is a regular expression the whole name
// must match.
#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "model/model.hpp"

namespace medforget {

struct LoraConfig {
  int r = 8;
  double alpha = 16;
  double dropout = 0.05;
  std::vector<std::string> targets{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  std::string target_regex;  // when set, used instead of `targets`
  bool use_rslora = false;   // scaling alpha / sqrt(r) instead of alpha / r

  double scaling() const;
  // "r=8,alpha=16,dropout=0.05,targets=q_proj,k_proj,v_proj" (targets last: it
  // takes the rest). Error naming the key for anything out of range or unknown.
  static LoraConfig parse(const std::string& spec);
  // adapter_config.json; Error naming the file for what medforget cannot apply
  // (another PEFT type, DoRA, per-module ranks, biases, fan_in_fan_out).
  static LoraConfig from_adapter_config(const Json& j, const std::string& file);
  Json adapter_config(const std::string& base_model) const;
  bool matches(const std::string& module) const;
};

// Adds adapters to every matching Linear (Error when none matches); freezes
// everything else. Returns the adapted module names.
std::vector<std::string> apply_lora(MultimodalModel& model, const LoraConfig& cfg);
// The adapters' parameters (what a LoRA fine-tuning trains).
std::vector<torch::Tensor> lora_parameters(MultimodalModel& model);
bool has_lora(MultimodalModel& model);
// W += scaling · B·A for every adapter, then the adapters are zeroed and
// disabled: the model computes the same without them.
void merge_lora(MultimodalModel& model);

// PEFT's tensor name for an adapter weight: "base_model.model." + the module's
// name as transformers 5 calls it + ".lora_A.weight".
std::string peft_tensor_name(const std::string& medforget_name);
void save_lora_adapter(MultimodalModel& model, const LoraConfig& cfg, const std::filesystem::path& dir,
                       const std::string& base_model);
// Reads a PEFT adapter directory into the model (adapters added first). Errors
// name the file and the tensor: a target the model lacks, a shape that is not
// this base model's, a tensor that names no module.
LoraConfig load_lora_adapter(MultimodalModel& model, const std::filesystem::path& dir);
bool is_lora_adapter_dir(const std::filesystem::path& dir);

}  // namespace medforget
