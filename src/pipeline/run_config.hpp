#pragma once
// What `medforget run` and `medforget grid` do: the scale, the model, the
// deletion requests, the methods (and their variants) and what is measured.
// Defaults per command and preset; a JSON file overrides any field; the whole
// configuration is validated before any work starts and recorded in every
// output directory.
#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace medforget {

struct RunVariant {
  std::string name;    // unique key in outputs and tables: "chip", "chip_no_siblings", ...
  std::string method;  // registry name
  std::string label;   // display name
  Json options = Json::object();
};

struct RunConfig {
  std::string preset = "small";        // data: tiny | small | paper
  std::string model_preset = "small";  // tiny | small | base | large
  std::string device = "cpu";
  uint64_t seed = 1;
  std::vector<std::string> levels{"patient"};
  std::vector<RunVariant> variants;
  bool attack = true, mia = false;
  Json finetune = Json::object();  // finetune CLI overrides: {"epochs": 20, "lr": 1e-3, ...}
  // How the vanilla model is made. "scratch": a new model fine-tuned on the
  // benchmark until it memorises it. "pretrained" (the paper's regime): a
  // general radiology model (`medforget pretrain`, or `pretrain.model`), then
  // LoRA fine-tuning on the benchmark with the adapters merged.
  std::string regime = "scratch";
  Json pretrain = Json::object();  // pretrain CLI overrides, or {"model": DIR} to start from an existing one
  Json to_json() const;
  int eval_limit = 0;              // 0: every item
  std::string corpus;              // build the benchmark from this corpus directory (absolute) instead of synthesising
  std::string corpus_digest;       // its digest when the run was planned: part of the data stage's key
};

// The pretrained regime's LoRA fine-tuning per model preset: what makes the
// adapters memorise the benchmark as the paper's step 1 does (docs/RESULTS.md,
// "The pretrained regime"). A run configuration's finetune fields override them.
struct RegimeFinetune {
  const char* lora;  // finetune --lora spec
  int epochs;
  double lr;
};
const RegimeFinetune& regime_finetune_defaults(const std::string& model_preset);

// `medforget run` defaults for a preset: CHIP and GradDiff at the patient level.
RunConfig default_run_config(const std::string& preset);
// `medforget grid` defaults: every method, Retrain, CHIP's ablations, all four
// levels, membership inference; the paper preset with the base model.
RunConfig default_grid_config(const std::string& preset);

// Applies a JSON object's fields over `base`. Unknown fields, unknown presets,
// levels or methods, bad method options: Error naming the file and field.
RunConfig apply_config(RunConfig base, const Json& j, const std::string& source);
RunConfig load_config(RunConfig base, const std::filesystem::path& file);

// Error unless every level, method, option and preset is known (run before any work).
// `method_check` validates one variant's options (the registry lives in the torch library).
void validate_config(const RunConfig& c, const std::vector<std::string>& known_methods);

}  // namespace medforget
