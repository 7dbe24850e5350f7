#include "model/hf_export.hpp"

#include <cstdio>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "model/checkpoint.hpp"
#include "model/hf_checkpoint.hpp"
#include "model/model.hpp"
#include "model/model_io.hpp"
#include "model/safetensors.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

std::string shard_name(int i, int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", i, n);
  return buf;
}

std::string human_bytes(uint64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GB", static_cast<double>(b) / 1e9);
  if (b < 1'000'000'000) std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(b) / 1e6);
  return buf;
}

}  // namespace

std::string model_card(const Json& manifest, const Json* prov, const ExportSummary& s) {
  std::string c = "---\nlibrary_name: transformers\npipeline_tag: image-text-to-text\ntags:\n- medforget\n- qwen2_5_vl\n";
  if (prov) c += "- machine-unlearning\n";
  c += "---\n\n# Qwen2.5-VL model exported by medforget\n\n";
  c += "A `Qwen2_5_VLForConditionalGeneration` checkpoint in Hugging Face format (" + std::to_string(s.tensors) +
       " tensors, " + s.dtype + ", " + human_bytes(s.total_bytes) +
       (s.shards > 1 ? " in " + std::to_string(s.shards) + " shards" : std::string()) +
       "), loadable with `transformers` as it is.\n\n";
  c += "Source content digest (sha256 over the source directory's files): `" +
       manifest.value("content_digest", std::string("unknown")) + "`\n\n";
  if (!prov) {
    c += "No unlearning was applied to this model by medforget.\n";
    return c;
  }
  const Json& req = prov->value("request", Json::object());
  c += "## Unlearning\n\n";
  c += "| | |\n|---|---|\n";
  c += "| method | `" + prov->value("variant", prov->value("method", std::string("?"))) + "` |\n";
  c += "| level | " + req.value("level", std::string("?")) + " |\n";
  const auto n_targets = req.contains("targets") && req["targets"].is_array() ? req["targets"].size() : 0;
  c += "| deletion targets | " + std::to_string(n_targets) + " (identifiers withheld) |\n";
  if (req.contains("n_forget")) c += "| forget items | " + req["n_forget"].dump() + " |\n";
  if (req.contains("n_retain")) c += "| retain items | " + req["n_retain"].dump() + " |\n";
  c += "| options | `" + prov->value("params", Json::object()).dump() + "` |\n";
  c += "| input model digest | `" + prov->value("input_checkpoint", Json::object()).value("digest", std::string("?")) + "` |\n";
  c += "| benchmark digest | `" + prov->value("bench", Json::object()).value("digest", std::string("?")) + "` |\n";
  c += "| provenance digest | `" + sha256_hex(prov->dump()) + "` (sha256 of the provenance record kept with the source checkpoint) |\n";
  c += "| medforget version | " + prov->value("medforget_version", std::string("?")) + " |\n\n";
  c += "The deletion request's identifiers (which patients, studies or institutions were forgotten) are in the "
       "provenance record of the source checkpoint only; they are not part of this export.\n";
  return c;
}

ExportSummary export_hf_model(const fs::path& model_dir, const fs::path& staging, const ExportOptions& opt) {
  const Json manifest = read_checkpoint_manifest(model_dir);
  const bool hf = is_hf_model_dir(model_dir);
  ModelConfig cfg = hf ? read_hf_config(model_dir) : load_checkpoint_config(model_dir);
  if (!hf) verify_manifest_digest(model_dir, manifest);  // what is exported is what was recorded
  for (const char* f : {"tokenizer.json"})
    if (!fs::is_regular_file(model_dir / f)) fail((model_dir / f).string() + ": missing; an export needs the tokenizer");
  ExpectedShapes expected;
  {
    SkipParameterInit skip;
    MultimodalModel shape_only(cfg);
    expected = shape_only->expected_shapes();
  }
  // The stored dtype, unless asked otherwise.
  const torch::ScalarType dtype = opt.dtype.value_or(cfg.torch_dtype == "bfloat16" ? torch::kBFloat16
                                                     : cfg.torch_dtype == "float16" ? torch::kFloat16
                                                                                    : torch::kFloat32);
  cfg.torch_dtype = dtype == torch::kBFloat16 ? "bfloat16" : dtype == torch::kFloat16 ? "float16" : "float32";
  ExportSummary s;
  s.dtype = dtype_name(dtype);

  // Weights: accumulated into shards of at most shard_bytes, written as each fills.
  std::vector<std::map<std::string, RawTensor>> shards(1);
  uint64_t in_shard = 0;
  std::vector<fs::path> written;
  std::map<std::string, int> shard_of;
  auto flush = [&](bool last) {
    if (shards.back().empty()) return;
    const fs::path tmp = staging / ("shard-" + std::to_string(written.size() + 1) + ".tmp");
    write_safetensors(tmp, shards.back(), {{"format", "pt"}});
    written.push_back(tmp);
    shards.back().clear();
    in_shard = 0;
    if (!last) shards.emplace_back();
  };
  read_hf_weights(model_dir, expected, dtype, [&](const std::string& name, torch::Tensor t) {
    RawTensor r = from_torch(t);
    const uint64_t n = r.data.size();
    if (in_shard > 0 && in_shard + n > opt.shard_bytes) flush(false);
    shard_of[name] = static_cast<int>(written.size());
    in_shard += n;
    s.total_bytes += n;
    ++s.tensors;
    shards.back().emplace(name, std::move(r));
  });
  flush(true);
  s.shards = static_cast<int>(written.size());
  if (s.shards == 1) {
    fs::rename(written[0], staging / "model.safetensors");
  } else {
    Json map = Json::object();
    for (const auto& [name, i] : shard_of) map[name] = shard_name(i + 1, s.shards);
    for (int i = 0; i < s.shards; ++i) fs::rename(written[static_cast<size_t>(i)], staging / shard_name(i + 1, s.shards));
    write_json(staging / "model.safetensors.index.json",
               Json{{"metadata", {{"total_size", s.total_bytes}}}, {"weight_map", map}});
  }

  Json cj = cfg.to_json();
  cj.erase("medforget_preset");
  write_json(staging / "config.json", cj);
  write_json(staging / "preprocessor_config.json", cfg.image_processor.to_json());
  fs::copy_file(model_dir / "tokenizer.json", staging / "tokenizer.json");
  const Tokenizer tok = Tokenizer::load(model_dir);
  write_json(staging / "tokenizer_config.json", fs::is_regular_file(model_dir / "tokenizer_config.json")
                                                    ? read_json(model_dir / "tokenizer_config.json")
                                                    : tok.config_json(cfg.max_position_embeddings));
  if (fs::is_regular_file(model_dir / "generation_config.json"))
    fs::copy_file(model_dir / "generation_config.json", staging / "generation_config.json");
  const fs::path prov_file = model_dir / "provenance.json";
  std::optional<Json> prov;
  if (fs::is_regular_file(prov_file)) prov = read_json(prov_file);
  write_atomic(staging / "README.md", model_card(manifest, prov ? &*prov : nullptr, s));
  return s;
}

}  // namespace medforget
