#pragma once
// A checkpoint is a Hugging Face Qwen2.5-VL model directory (transformers loads
// it as it is) with medforget's manifest beside the HF files:
//   config.json               ModelConfig with HF Qwen2.5-VL keys
//   preprocessor_config.json  the image processor
//   model.safetensors         every parameter, HF names, metadata {"format": "pt"}
//   tokenizer.json            copy of the tokenizer the ids refer to
//   tokenizer_config.json     its chat template and special tokens
//   generation_config.json    eos / pad ids for generate()
//   manifest.json             stage "checkpoint": params (incl. "config",
//                             "preprocessor"), inputs (incl. "tokenizer" sha256),
//                             content digest — written last
// It is built in a staging directory and renamed into place, so a run killed
// while saving leaves the previous checkpoint at the same path loadable.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "core/json.hpp"
#include "model/config.hpp"
#include "model/safetensors.hpp"

namespace medforget {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;
using ExpectedShapes = std::vector<std::pair<std::string, std::vector<int64_t>>>;

struct CheckpointData {
  ModelConfig config;
  NamedTensors tensors;
  std::filesystem::path tokenizer_file;
  Json extra_params = Json::object();  // merged into manifest params next to "config"
  Json inputs = Json::object();        // merged into manifest inputs next to "tokenizer"
  // Further files written into the directory before the manifest, so the
  // content digest covers them (provenance.json of an unlearned model); a
  // string under a name not ending in .json is written as text (an SVG).
  std::vector<std::pair<std::string, Json>> extra_files;
};

// Validates cfg, converts the tensors (CUDA → CPU, contiguous), writes the
// directory atomically. Error on duplicate names, unsupported dtypes, a
// missing tokenizer file or params/inputs that are not JSON objects (null is
// taken as {}).
void save_checkpoint(const std::filesystem::path& dir, const ModelConfig& cfg, const NamedTensors& named_tensors,
                     const std::filesystem::path& tokenizer_file, const Json& params, const Json& inputs,
                     const std::vector<std::pair<std::string, Json>>& extra_files = {});
void save_checkpoint(const std::filesystem::path& dir, const CheckpointData& data);

// Reads manifest.json (stage "checkpoint") and config.json, checks that the
// config matches the one recorded in the manifest, validates it. Cheap: does
// not hash the tensors.
ModelConfig load_checkpoint_config(const std::filesystem::path& dir);

// Loads model.safetensors (structure validated), checks it against `expected`
// (name → shape, from the model; dtype from config torch_dtype) and names the
// first mismatch: missing tensor, wrong shape (expected vs got), wrong dtype —
// in `expected` order — then any unexpected tensor. Verifies the manifest
// content digest. Returns CPU tensors.
std::map<std::string, torch::Tensor> load_checkpoint_tensors(const std::filesystem::path& dir,
                                                             const ExpectedShapes& expected);

// The manifest of a finished checkpoint directory (Error if unfinished), or
// read_model_manifest's for a Hugging Face model directory.
Json read_checkpoint_manifest(const std::filesystem::path& dir);

// safetensors dtype ↔ torch scalar type: F64/F32/F16/BF16/I64/I32/I16/I8/U8/BOOL.
std::string safetensors_dtype(torch::ScalarType t);  // Error for others
torch::ScalarType torch_scalar_type(const std::string& dtype);  // Error for others
// Bit-exact copies. to_torch returns a CPU tensor owning its memory.
// from_torch accepts any device/layout: the tensor is detached, moved to CPU and made contiguous.
torch::Tensor to_torch(const RawTensor& t);
RawTensor from_torch(const torch::Tensor& t);

namespace checkpoint_detail {
// Test seam: called inside the staging directory after config.json,
// model.safetensors and tokenizer.json are written, before the manifest and
// the rename. Tests throw or raise(SIGKILL) here to simulate a killed save.
extern std::function<void(const std::filesystem::path& staging)> staging_hook;
}  // namespace checkpoint_detail

}  // namespace medforget
