#include "model/model_io.hpp"

#include <optional>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "model/checkpoint.hpp"

namespace medforget {

ModelConfig config_for(const std::string& preset, const Tokenizer& tok, int image_size) {
  ModelConfig c = model_preset(preset);
  c.vocab_size = tok.vocab_size();
  c.pad_token_id = tok.pad_id();
  c.eos_token_id = tok.im_end_id();
  c.image_token_id = tok.image_pad_id();
  c.vision_start_token_id = tok.vision_start_id();
  c.vision_end_token_id = tok.vision_end_id();
  if (image_size > 0) c.vision_config.image_size = image_size;
  c.validate();
  return c;
}

LoadedModel load_model(const std::filesystem::path& dir, const torch::Device& device) {
  LoadedModel m;
  m.dir = dir;
  m.config = load_checkpoint_config(dir);
  m.tokenizer = Tokenizer::load(dir / "tokenizer.model");
  const auto& c = m.config;
  const Tokenizer& t = m.tokenizer;
  if (t.vocab_size() != c.vocab_size || t.image_pad_id() != c.image_token_id || t.pad_id() != c.pad_token_id ||
      t.vision_start_id() != c.vision_start_token_id || t.vision_end_id() != c.vision_end_token_id)
    fail((dir / "tokenizer.model").string() + ": does not match " + (dir / "config.json").string() +
         " (vocabulary " + std::to_string(t.vocab_size()) + " vs " + std::to_string(c.vocab_size) +
         " or special token ids differ)");
  m.model = MultimodalModel(c);
  auto tensors = load_checkpoint_tensors(dir, m.model->expected_shapes());
  {
    torch::NoGradGuard ng;
    for (auto& p : m.model->named_parameters()) p.value().copy_(tensors.at(p.key()));
  }
  m.model->to(device);
  m.model->eval();
  return m;
}

void save_model(const std::filesystem::path& dir, MultimodalModel& model, const std::filesystem::path& tokenizer_file,
                const Json& params, const Json& inputs, const std::vector<std::pair<std::string, Json>>& extra_files) {
  NamedTensors named;
  for (const auto& p : model->named_parameters())
    named.emplace_back(p.key(), p.value().detach().to(torch::kCPU).contiguous());
  save_checkpoint(dir, model->config(), named, tokenizer_file, params, inputs, extra_files);
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
