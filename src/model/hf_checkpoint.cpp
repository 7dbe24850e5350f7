#include "model/hf_checkpoint.hpp"

#include <algorithm>
#include <set>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/manifest.hpp"
#include "model/arch_names.hpp"
#include "model/safetensors.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

// Shard file → the tensors the index assigns to it; the single file when there is no index.
std::map<std::string, std::set<std::string>> weight_files(const fs::path& dir) {
  const fs::path index = dir / "model.safetensors.index.json";
  std::map<std::string, std::set<std::string>> files;
  if (!fs::exists(index)) {
    if (!fs::is_regular_file(dir / "model.safetensors"))
      fail(dir.string() + ": no model.safetensors and no model.safetensors.index.json (not a model directory, or "
           "weights in a format medforget does not read: only safetensors)");
    files["model.safetensors"];
    return files;
  }
  const Json j = read_json(index);
  const Json& map = get_object(j, "weight_map", JsonCtx{index.string(), 0});
  for (const auto& [name, file] : map.items()) {
    if (!file.is_string())
      fail(index.string() + ": weight_map['" + name + "'] must be a file name, got " + file.dump());
    const std::string f = file.get<std::string>();
    if (f.empty() || f.find('/') != std::string::npos || f == "." || f == "..")
      fail(index.string() + ": weight_map['" + name + "'] names '" + f + "', not a file in the directory");
    files[f].insert(name);
  }
  for (const auto& [f, names] : files)
    if (!fs::is_regular_file(dir / f))
      fail(index.string() + ": names shard '" + f + "' (for '" + *names.begin() + "' and " +
           std::to_string(names.size() - 1) + " more), which is not in " + dir.string());
  return files;
}

}  // namespace

bool is_hf_model_dir(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "config.json", ec) && !has_checkpoint_manifest(dir);
}

ModelConfig read_hf_config(const fs::path& dir) {
  const fs::path cp = dir / "config.json";
  if (!fs::is_regular_file(cp)) fail(dir.string() + ": no config.json (not a Hugging Face model directory)");
  ModelConfig c = ModelConfig::from_json(read_json(cp), cp.string());
  const fs::path pp = dir / "preprocessor_config.json";
  if (fs::is_regular_file(pp)) c.image_processor = ImageProcessorConfig::load(pp);
  try {
    c.validate();
  } catch (const Error& e) {
    fail(cp.string() + (fs::is_regular_file(pp) ? " with " + pp.string() : std::string()) + ": " + e.what());
  }
  return c;
}

void read_hf_weights(const fs::path& dir, const ExpectedShapes& expected, torch::ScalarType dtype,
                     const WeightSink& sink) {
  std::map<std::string, const std::vector<int64_t>*> want;
  for (const auto& [name, shape] : expected) want[name] = &shape;
  std::map<std::string, std::string> source;  // canonical name → file, for duplicates and the final check
  for (const auto& [file, listed] : weight_files(dir)) {
    const fs::path path = dir / file;
    const auto spans = read_safetensors_header(path);
    // Everything checked before any tensor is read.
    for (const auto& [hf_name, t] : spans) {
      const std::string name = arch::from_transformers5(hf_name);
      auto w = want.find(name);
      if (w == want.end()) {
        if (name == "lm_head.weight") continue;  // tied: the embedding is the head
        fail(path.string() + ": unexpected tensor '" + hf_name + "' (shape " + shape_string(t.shape) +
             "), which a Qwen2.5-VL of this config.json does not have");
      }
      if (t.shape != *w->second)
        fail(path.string() + ": tensor '" + hf_name + "' has shape " + shape_string(t.shape) + " but config.json gives " +
             shape_string(*w->second));
      if (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16")
        fail(path.string() + ": tensor '" + hf_name + "' is " + t.dtype +
             " (quantised or integer weights): medforget computes in F32, F16 or BF16 only");
      if (!listed.empty() && !listed.count(hf_name))
        fail(path.string() + ": tensor '" + hf_name + "' is not where model.safetensors.index.json says it is");
      if (auto [it, fresh] = source.emplace(name, path.string()); !fresh)
        fail(path.string() + ": tensor '" + hf_name + "' also comes from " + it->second);
    }
    const MappedFile mapped(path);
    std::vector<std::pair<uint64_t, const std::string*>> order;  // file order: sequential reads
    for (const auto& [hf_name, t] : spans) order.emplace_back(t.offset, &hf_name);
    std::sort(order.begin(), order.end());
    for (const auto& [offset, hf_name] : order) {
      const TensorSpan& t = spans.at(*hf_name);
      const std::string name = arch::from_transformers5(*hf_name);
      if (!want.count(name)) continue;
      auto view = torch::from_blob(const_cast<uint8_t*>(mapped.data()) + t.offset, t.shape,
                                   torch::TensorOptions().dtype(torch_scalar_type(t.dtype)));
      // A copy that owns its memory, in the compute dtype; then the mapped pages go.
      torch::Tensor owned = view.scalar_type() == dtype ? view.clone() : view.to(dtype);
      mapped.release(t.offset, t.bytes);
      sink(name, std::move(owned));
    }
  }
  for (const auto& [name, shape] : expected)
    if (!source.count(name))
      fail(dir.string() + ": missing tensor '" + name + "' (shape " + shape_string(shape) + ") in the checkpoint's weights");
}

std::map<std::string, torch::Tensor> read_hf_weights(const fs::path& dir, const ExpectedShapes& expected,
                                                     torch::ScalarType dtype) {
  std::map<std::string, torch::Tensor> out;
  read_hf_weights(dir, expected, dtype, [&](const std::string& name, torch::Tensor t) { out.emplace(name, std::move(t)); });
  return out;
}

}  // namespace medforget
