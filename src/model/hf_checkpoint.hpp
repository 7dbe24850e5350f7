#pragma once
// Hugging Face Qwen2.5-VL model directories, as transformers' save_pretrained
// writes them: config.json (either layout), preprocessor_config.json,
// model.safetensors or shards listed in model.safetensors.index.json, in bf16,
// fp16 or fp32. Tensor names of both transformers generations
// ("model.layers.0…" / "model.language_model.layers.0…", "visual.…" /
// "model.visual.…") map to the one naming medforget's model uses.
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include <torch/types.h>

#include "model/checkpoint.hpp"
#include "model/config.hpp"

namespace medforget {

// A directory holding a Hugging Face config.json and no medforget checkpoint
// manifest (an `export` directory is one).
bool is_hf_model_dir(const std::filesystem::path& dir);

// config.json plus preprocessor_config.json when present (otherwise the
// processor Qwen2.5-VL ships with, at the tower's patch and merge sizes);
// validated. Errors name the file and the key.
ModelConfig read_hf_config(const std::filesystem::path& dir);


// Every weight the model expects, from the single file or the shards, converted
// to `dtype`. Errors name the file and the tensor: a shard the index names but
// the directory lacks, a missing or unexpected tensor, a shape that disagrees
// with the config, a dtype other than F32/F16/BF16. A tied model's lm_head, when
// a file carries one, is dropped.
// Tensors are read from memory-mapped files one at a time and handed to `sink`
// (name, CPU tensor of `dtype`), so a sink that moves each into the model keeps
// the peak near the model's own size.
using WeightSink = std::function<void(const std::string& name, torch::Tensor t)>;
void read_hf_weights(const std::filesystem::path& dir, const ExpectedShapes& expected, torch::ScalarType dtype,
                     const WeightSink& sink);
std::map<std::string, torch::Tensor> read_hf_weights(const std::filesystem::path& dir, const ExpectedShapes& expected,
                                                     torch::ScalarType dtype);

}  // namespace medforget
