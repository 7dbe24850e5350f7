#include "model/checkpoint.hpp"

#include <cstring>
#include <set>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "text/tokenizer.hpp"

namespace medforget {

namespace checkpoint_detail {
std::function<void(const std::filesystem::path&)> staging_hook;
}  // namespace checkpoint_detail

namespace {

constexpr const char* kStage = "checkpoint";
constexpr const char* kConfigFile = "config.json";
constexpr const char* kModelFile = "model.safetensors";
constexpr const char* kTokenizerFile = "tokenizer.json";
constexpr const char* kTokenizerConfigFile = "tokenizer_config.json";
constexpr const char* kGenerationFile = "generation_config.json";
constexpr const char* kPreprocessorFile = "preprocessor_config.json";

struct DtypeRow {
  const char* name;
  torch::ScalarType type;
};
const DtypeRow kDtypes[] = {
    {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
    {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
    {"U8", torch::kUInt8},    {"BOOL", torch::kBool},
};

Json as_object(const Json& j, const char* what) {
  if (j.is_null()) return Json::object();
  if (!j.is_object()) fail(std::string("save_checkpoint: ") + what + " must be a JSON object, got " + j.dump());
  return j;
}

std::string config_dtype(const ModelConfig& cfg) {
  if (cfg.torch_dtype == "float32") return "F32";
  if (cfg.torch_dtype == "float16") return "F16";
  if (cfg.torch_dtype == "bfloat16") return "BF16";
  fail("model config: unsupported torch_dtype '" + cfg.torch_dtype + "'");
}

void require_file(const std::filesystem::path& dir, const char* name) {
  auto p = dir / name;
  if (!std::filesystem::is_regular_file(p))
    fail(p.string() + ": missing; checkpoint '" + dir.string() + "' is incomplete");
}

}  // namespace

std::string safetensors_dtype(torch::ScalarType t) {
  for (const auto& r : kDtypes)
    if (r.type == t) return r.name;
  fail(std::string("tensor dtype ") + c10::toString(t) +
       " cannot be stored (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");
}

torch::ScalarType torch_scalar_type(const std::string& dtype) {
  for (const auto& r : kDtypes)
    if (dtype == r.name) return r.type;
  fail("safetensors dtype '" + dtype + "' has no torch equivalent here (supported: F64, F32, F16, BF16, I64, I32, "
       "I16, I8, U8, BOOL)");
}

torch::Tensor to_torch(const RawTensor& t) {
  torch::ScalarType st = torch_scalar_type(t.dtype);
  torch::Tensor out = torch::empty(t.shape, torch::TensorOptions().dtype(st).device(torch::kCPU));
  size_t want = static_cast<size_t>(out.numel()) * out.element_size();
  if (want != t.data.size())
    fail("tensor of shape " + shape_string(t.shape) + " " + t.dtype + " needs " + std::to_string(want) +
         " bytes, has " + std::to_string(t.data.size()));
  if (want > 0) std::memcpy(out.data_ptr(), t.data.data(), want);
  return out;
}

RawTensor from_torch(const torch::Tensor& t) {
  if (!t.defined()) fail("cannot store an undefined tensor");
  if (t.layout() != torch::kStrided) fail("cannot store a sparse tensor");
  RawTensor r;
  r.dtype = safetensors_dtype(t.scalar_type());
  torch::Tensor c = t.detach();
  if (!c.device().is_cpu()) c = c.to(torch::kCPU);
  c = c.contiguous();
  r.shape = c.sizes().vec();
  size_t n = static_cast<size_t>(c.numel()) * c.element_size();
  r.data.resize(n);
  if (n > 0) std::memcpy(r.data.data(), c.data_ptr(), n);
  return r;
}

void save_checkpoint(const std::filesystem::path& dir, const ModelConfig& cfg, const NamedTensors& named_tensors,
                     const std::filesystem::path& tokenizer_file, const Json& params, const Json& inputs,
                     const std::vector<std::pair<std::string, Json>>& extra_files) {
  cfg.validate();
  Json p = as_object(params, "params");
  Json in = as_object(inputs, "inputs");
  if (!std::filesystem::is_regular_file(tokenizer_file))
    fail(tokenizer_file.string() + ": tokenizer file missing; a checkpoint needs the tokenizer its ids refer to");
  const std::vector<uint8_t> tok = read_bytes(tokenizer_file);
  // tokenizer_config.json: the one beside the tokenizer (a real checkpoint's own
  // chat template), else Qwen2.5-VL's for this tokenizer.
  const auto beside = tokenizer_file.parent_path() / kTokenizerConfigFile;
  const Json tok_cfg = std::filesystem::is_regular_file(beside)
                           ? read_json(beside)
                           : Tokenizer::load(tokenizer_file).config_json(cfg.max_position_embeddings);
  Json gen = {{"do_sample", false}, {"eos_token_id", Json::array({cfg.eos_token_id})}};
  if (cfg.pad_token_id >= 0) gen["pad_token_id"] = cfg.pad_token_id, gen["eos_token_id"].push_back(cfg.pad_token_id);
  if (cfg.bos_token_id >= 0) gen["bos_token_id"] = cfg.bos_token_id;

  std::map<std::string, RawTensor> raw;
  for (const auto& [name, t] : named_tensors) {
    RawTensor r;
    try {
      r = from_torch(t);
    } catch (const Error& e) {
      fail("save_checkpoint " + dir.string() + ": tensor '" + name + "': " + e.what());
    }
    if (!raw.emplace(name, std::move(r)).second)
      fail("save_checkpoint " + dir.string() + ": tensor '" + name + "' given twice");
  }

  StagingDir stage(dir);
  const Json cj = cfg.to_json();
  write_json(stage.path() / kConfigFile, cj);
  const Json pj = cfg.image_processor.to_json();
  write_json(stage.path() / kPreprocessorFile, pj);
  write_safetensors(stage.path() / kModelFile, raw, {{"format", "pt"}});
  raw.clear();
  write_atomic(stage.path() / kTokenizerFile, tok);
  write_json(stage.path() / kTokenizerConfigFile, tok_cfg);
  write_json(stage.path() / kGenerationFile, gen);
  for (const auto& [name, j] : extra_files) {
    if (name.empty() || name.find('/') != std::string::npos || name == kConfigFile || name == kModelFile ||
        name == kTokenizerFile || name == kPreprocessorFile || name == kTokenizerConfigFile || name == kGenerationFile ||
        name == "manifest.json")
      fail("save_checkpoint " + dir.string() + ": extra file name '" + name + "' is not allowed");
    // A text file (a loss-curve SVG) rides as a JSON string under a name that is not *.json.
    if (j.is_string() && !name.ends_with(".json"))
      write_atomic(stage.path() / name, j.get<std::string>());
    else
      write_json(stage.path() / name, j);
  }
  if (checkpoint_detail::staging_hook) checkpoint_detail::staging_hook(stage.path());

  p["config"] = cj;
  p["preprocessor"] = pj;
  in["tokenizer"] = sha256_hex(std::string(tok.begin(), tok.end()));
  write_manifest(stage.path(), kStage, p, in);
  stage.commit();
}

void save_checkpoint(const std::filesystem::path& dir, const CheckpointData& d) {
  save_checkpoint(dir, d.config, d.tensors, d.tokenizer_file, d.extra_params, d.inputs, d.extra_files);
}

Json read_checkpoint_manifest(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) fail(dir.string() + ": checkpoint directory not found");
  return read_model_manifest(dir);
}

ModelConfig load_checkpoint_config(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) fail(dir.string() + ": checkpoint directory not found");
  Json m = read_manifest(dir, kStage);
  require_file(dir, kConfigFile);
  const auto p = dir / kConfigFile;
  Json j = read_json(p);
  ModelConfig c = ModelConfig::from_json(j, p.string());
  auto params = m.find("params");
  if (params == m.end() || !params->is_object() || !params->contains("preprocessor"))
    fail(dir.string() + ": a checkpoint of an earlier medforget model format (no image processor recorded); "
         "rebuild it with this version (medforget finetune, or re-run the pipeline)");
  auto rec = params->find("config");
  if (rec != params->end() && *rec != j)
    fail(p.string() + ": differs from the config recorded in manifest.json (edited after the save?)");
  require_file(dir, kPreprocessorFile);
  const auto pp = dir / kPreprocessorFile;
  const Json pj = read_json(pp);
  if (pj != params->at("preprocessor"))
    fail(pp.string() + ": differs from the image processor recorded in manifest.json (edited after the save?)");
  c.image_processor = ImageProcessorConfig::from_json(pj, pp.string());
  try {
    c.validate();
  } catch (const Error& e) {
    fail(p.string() + " with " + pp.string() + ": " + e.what());
  }
  return c;
}

std::map<std::string, torch::Tensor> load_checkpoint_tensors(const std::filesystem::path& dir,
                                                             const ExpectedShapes& expected) {
  ModelConfig cfg = load_checkpoint_config(dir);
  Json m = read_manifest(dir, kStage);
  require_file(dir, kModelFile);
  require_file(dir, kTokenizerFile);
  const auto st = dir / kModelFile;
  std::map<std::string, RawTensor> raw = read_safetensors(st);
  verify_manifest_digest(dir, m);

  const std::string want_dtype = config_dtype(cfg);
  std::set<std::string> names;
  for (const auto& [name, shape] : expected) {
    names.insert(name);
    auto it = raw.find(name);
    if (it == raw.end())
      fail(st.string() + ": missing tensor '" + name + "' (expected shape " + shape_string(shape) + ", " + want_dtype +
           ")");
    if (it->second.shape != shape)
      fail(st.string() + ": tensor '" + name + "': wrong shape: expected " + shape_string(shape) + ", got " +
           shape_string(it->second.shape));
    if (it->second.dtype != want_dtype)
      fail(st.string() + ": tensor '" + name + "': wrong dtype: expected " + want_dtype + " (torch_dtype " +
           cfg.torch_dtype + "), got " + it->second.dtype);
  }
  for (const auto& [name, t] : raw)
    if (!names.count(name))
      fail(st.string() + ": unexpected tensor '" + name + "' (shape " + shape_string(t.shape) +
           ") that the model does not have");

  std::map<std::string, torch::Tensor> out;
  for (auto& [name, t] : raw) {
    out.emplace(name, to_torch(t));
    t.data = {};  // release as we go
  }
  return out;
}

}  // namespace medforget
