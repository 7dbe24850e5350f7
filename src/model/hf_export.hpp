#pragma once
// `medforget export`: a model directory (a medforget checkpoint or a Hugging Face
// one) as a clean Hugging Face directory for transformers, vLLM and the rest of
// that ecosystem: config.json, preprocessor_config.json, the weights (one
// model.safetensors, or shards with model.safetensors.index.json above a size
// limit), tokenizer.json, tokenizer_config.json, generation_config.json, and a
// README model card. What was unlearned (level, method, options, provenance
// digest, number of targets) is on the card; which patients, studies or
// institutions were forgotten is not, anywhere in the directory.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <torch/types.h>

#include "core/json.hpp"

namespace medforget {

struct ExportOptions {
  uint64_t shard_bytes = 5'000'000'000;      // transformers' default max_shard_size
  std::optional<torch::ScalarType> dtype;   // convert the weights; default: as stored
};

struct ExportSummary {
  int shards = 0;  // 1: a single model.safetensors
  uint64_t total_bytes = 0;
  int tensors = 0;
  std::string dtype;
};

// Writes into `staging` (a directory the caller commits). Errors name the file.
ExportSummary export_hf_model(const std::filesystem::path& model_dir, const std::filesystem::path& staging,
                              const ExportOptions& opt);

// The model card: provenance without identifiers. Public for tests.
std::string model_card(const Json& manifest, const Json* provenance, const ExportSummary& s);

}  // namespace medforget
