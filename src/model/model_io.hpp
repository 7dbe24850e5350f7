#pragma once
// A model together with its tokenizer: building one from presets, saving it as
// a checkpoint directory and loading it back with every check.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.hpp"

#include "model/config.hpp"
#include "model/model.hpp"
#include "text/tokenizer.hpp"

namespace medforget {

// A preset's architecture with the tokenizer's vocabulary and special ids.
ModelConfig config_for(const std::string& preset, const Tokenizer& tok, int image_size);

struct LoadedModel {
  ModelConfig config;
  MultimodalModel model{nullptr};
  Tokenizer tokenizer;
  std::filesystem::path dir;
  torch::ScalarType dtype = torch::kFloat32;  // of the parameters, for compute
  std::filesystem::path adapter;             // a PEFT LoRA adapter applied on top ("" = none)
};

// --dtype: bf16 | fp16 | fp32 (also bfloat16, float16, float32).
torch::ScalarType parse_dtype(const std::string& name);
std::optional<torch::ScalarType> dtype_option(const std::string& name);  // "" = the default
std::string dtype_name(torch::ScalarType t);  // bf16 | fp16 | fp32
// bf16 for a Hugging Face checkpoint on CUDA; fp32 otherwise (the CPU, the testbed).
torch::ScalarType default_dtype(const std::filesystem::path& dir, const torch::Device& device);

// Loads config, weights and tokenizer from a medforget checkpoint (manifest and
// digest verified), a Hugging Face Qwen2.5-VL directory (memory-mapped, sharded
// or not), or a PEFT LoRA adapter directory (its base_model_name_or_path, a
// directory, relative ones from the adapter's; the adapter applied on top, only
// the adapters trainable). The tokenizer's special ids must match the config's.
LoadedModel load_model(const std::filesystem::path& dir, const torch::Device& device,
                       std::optional<torch::ScalarType> dtype = std::nullopt);

void save_model(const std::filesystem::path& dir, MultimodalModel& model, const std::filesystem::path& tokenizer_file,
                const Json& params, const Json& inputs,
                const std::vector<std::pair<std::string, Json>>& extra_files = {});

torch::Device parse_device(const std::string& name);  // "cpu" | "cuda" | "cuda:N"; Error if unavailable

}  // namespace medforget
