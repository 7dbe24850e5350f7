#include "model/model_io.hpp"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <optional>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/manifest.hpp"
#include "core/progress.hpp"
#include "model/checkpoint.hpp"
#include "model/hf_checkpoint.hpp"
#include "model/lora.hpp"

namespace medforget {

ModelConfig config_for(const std::string& preset, const Tokenizer& tok, int image_size) {
  ModelConfig c = model_preset(preset);
  c.vocab_size = tok.vocab_size();
  c.pad_token_id = tok.pad_id();
  c.eos_token_id = tok.im_end_id();
  c.image_token_id = tok.image_pad_id();
  c.vision_start_token_id = tok.vision_start_id();
  c.vision_end_token_id = tok.vision_end_id();
  if (image_size > 0) c.image_processor = testbed_image_processor(c.vision_config, image_size);
  c.validate();
  return c;
}

torch::ScalarType parse_dtype(const std::string& name) {
  if (name == "fp32" || name == "float32") return torch::kFloat32;
  if (name == "bf16" || name == "bfloat16") return torch::kBFloat16;
  if (name == "fp16" || name == "float16") return torch::kFloat16;
  fail("--dtype '" + name + "': expected bf16, fp16 or fp32");
}

std::optional<torch::ScalarType> dtype_option(const std::string& name) {
  if (name.empty()) return std::nullopt;
  return parse_dtype(name);
}

std::string dtype_name(torch::ScalarType t) {
  return t == torch::kBFloat16 ? "bf16" : t == torch::kFloat16 ? "fp16" : "fp32";
}

torch::ScalarType default_dtype(const std::filesystem::path& dir, const torch::Device& device) {
  return device.is_cuda() && is_hf_model_dir(dir) ? torch::kBFloat16 : torch::kFloat32;
}

namespace {

// The tokenizer's special ids are the ones the model was trained with.
void check_tokenizer(const std::filesystem::path& dir, const ModelConfig& c, const Tokenizer& t) {
  auto differs = [](int tok, int cfg) { return cfg >= 0 && tok != cfg; };
  if (t.vocab_size() > c.vocab_size || differs(t.image_pad_id(), c.image_token_id) ||
      differs(t.vision_start_id(), c.vision_start_token_id) || differs(t.vision_end_id(), c.vision_end_token_id) ||
      differs(t.pad_id(), c.pad_token_id))
    fail((dir / "tokenizer.json").string() + ": does not match " + (dir / "config.json").string() + " (vocabulary " +
         std::to_string(t.vocab_size()) + " vs " + std::to_string(c.vocab_size) + ", <|image_pad|> " +
         std::to_string(t.image_pad_id()) + " vs image_token_id " + std::to_string(c.image_token_id) +
         ", or another special token id differs)");
}

}  // namespace

LoadedModel load_model(const std::filesystem::path& dir, const torch::Device& device,
                       std::optional<torch::ScalarType> dtype) {
  if (is_lora_adapter_dir(dir)) {
    const auto cfg_file = dir / "adapter_config.json";
    const Json ac = read_json(cfg_file);
    const auto base = ac.find("base_model_name_or_path");
    if (base == ac.end() || !base->is_string() || base->get<std::string>().empty())
      fail(cfg_file.string() + ": names no base model ('base_model_name_or_path'); set it to the base model's directory");
    std::filesystem::path b = base->get<std::string>();
    if (b.is_relative()) b = dir / b;
    if (!std::filesystem::is_directory(b))
      fail(cfg_file.string() + ": base model '" + base->get<std::string>() +
           "' is not a directory here (a hub name?); set 'base_model_name_or_path' to the local directory");
    LoadedModel m = load_model(b, device, dtype);
    load_lora_adapter(m.model, dir);
    m.model->to(device);
    m.model->eval();
    m.adapter = dir;
    return m;
  }
  const auto t0 = std::chrono::steady_clock::now();
  LoadedModel m;
  m.dir = dir;
  m.dtype = dtype.value_or(default_dtype(dir, device));
  if (is_hf_model_dir(dir)) {
    m.config = read_hf_config(dir);
  } else {
    // A medforget checkpoint: its digest verified (streamed), then loaded as a
    // Hugging Face directory is.
    m.config = load_checkpoint_config(dir);
    verify_manifest_digest(dir, read_checkpoint_manifest(dir));
  }
  m.tokenizer = Tokenizer::load(dir / "tokenizer.json");
  check_tokenizer(dir, m.config, m.tokenizer);
  {
    SkipParameterInit skip;  // every parameter is about to be replaced
    m.model = MultimodalModel(m.config);
  }
  // Weights memory-mapped and moved into the model tensor by tensor, in the compute dtype.
  auto params = m.model->named_parameters();
  {
    torch::NoGradGuard ng;
    read_hf_weights(dir, m.model->expected_shapes(), m.dtype,
                    [&](const std::string& name, torch::Tensor t) { params[name].set_data(t); });
  }
  // Buffers (rotary frequencies) stay float32: angles are computed in float32.
  for (auto& p : m.model->parameters())
    if (p.scalar_type() != m.dtype) p.set_data(p.to(m.dtype));
  m.model->to(device);
  m.model->eval();
  int64_t n = 0;
  for (const auto& p : m.model->parameters()) n += p.numel();
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.2fB parameters, %s, in %.1f s (peak RSS %.0f MiB)", n / 1e9,
                dtype_name(m.dtype).c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), ru.ru_maxrss / 1024.0);
  log_info("model: loaded " + dir.string() + ": " + buf);
  return m;
}

void save_model(const std::filesystem::path& dir, MultimodalModel& model, const std::filesystem::path& tokenizer_file,
                const Json& params, const Json& inputs, const std::vector<std::pair<std::string, Json>>& extra_files) {
  NamedTensors named;
  for (const auto& p : model->named_parameters())
    if (!is_lora_name(p.key())) named.emplace_back(p.key(), p.value().detach().to(torch::kCPU).contiguous());
  // Stored in the dtype the weights were computed in: an update smaller than a
  // bf16 step would vanish if fp32 weights were rounded back.
  ModelConfig cfg = model->config();
  if (!named.empty()) {
    const auto t = named.front().second.scalar_type();
    cfg.torch_dtype = t == torch::kBFloat16 ? "bfloat16" : t == torch::kFloat16 ? "float16" : "float32";
  }
  save_checkpoint(dir, cfg, named, tokenizer_file, params, inputs, extra_files);
}

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  std::optional<torch::Device> parsed;
  try {
    parsed.emplace(name);  // libtorch's own parser: "cuda", "cuda:N"; throws on malformed strings
  } catch (const std::exception&) {
  }
  // The round trip rejects what the parser bends: an index past its 8 bits wraps ("cuda:256" is cuda:0).
  if (!parsed || !parsed->is_cuda() || (name != "cuda" && parsed->str() != name))
    fail("--device '" + name + "': expected cpu, cuda or cuda:N");
  if (!torch::cuda::is_available())
    fail("--device " + name + ": this libtorch has no CUDA device available (built for CPU, or no GPU present)");
  const torch::Device d = *parsed;
  // Checked here: libtorch's own "invalid device ordinal" would come mid-run.
  const auto n = static_cast<int>(torch::cuda::device_count());
  if (d.has_index() && d.index() >= n)
    fail("--device " + name + ": this machine has " + std::to_string(n) + " CUDA device" + (n == 1 ? "" : "s") +
         ", cuda:0 to cuda:" + std::to_string(n - 1));
  return d;
}

}  // namespace medforget
