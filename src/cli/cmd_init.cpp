// medforget init: a randomly initialised Qwen2.5-VL checkpoint of any
// configuration (a testbed experiment at a new size, or a real model's
// configuration for load and speed measurements without its weights).
#include <chrono>
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/output.hpp"
#include "core/progress.hpp"
#include "model/checkpoint.hpp"
#include "model/model_io.hpp"
#include "text/tokenizer.hpp"

namespace medforget::cli {

void register_init(CLI::App& app) {
  static std::string config, preprocessor, tokenizer, out, dtype = "fp32";
  static uint64_t seed = 1;
  static bool force = false;
  auto* cmd = app.add_subcommand("init", "Write a randomly initialised Qwen2.5-VL checkpoint of a given config.json");
  cmd->add_option("--config", config, "config.json (either transformers layout)")->required();
  cmd->add_option("--preprocessor", preprocessor, "preprocessor_config.json (default: Qwen2.5-VL's processor)");
  cmd->add_option("--tokenizer", tokenizer, "tokenizer.json, or a directory holding it, whose special ids match the config")
      ->required();
  cmd->add_option("--out", out, "Output checkpoint directory")->required();
  cmd->add_option("--dtype", dtype, "Weights as bf16 | fp16 | fp32");
  cmd->add_option("--seed", seed, "Seed")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--force", force, "Replace a medforget directory of another kind at --out");
  cmd->callback([] {
    const auto type = parse_dtype(dtype);
    OutputLock lock = claim_output(out, {"init", "checkpoint", {config, preprocessor, tokenizer}, force});
    ModelConfig c = ModelConfig::from_json(read_json(config), config);
    if (!preprocessor.empty()) c.image_processor = ImageProcessorConfig::load(preprocessor);
    c.torch_dtype = type == torch::kBFloat16 ? "bfloat16" : type == torch::kFloat16 ? "float16" : "float32";
    c.validate();
    const Tokenizer tok = Tokenizer::load(tokenizer);
    if (tok.vocab_size() > c.vocab_size || tok.image_pad_id() != c.image_token_id)
      fail(tok.file().string() + ": does not match " + config + " (vocabulary or <|image_pad|> id)");
    torch::manual_seed(static_cast<int64_t>(seed));
    MultimodalModel model{nullptr};
    {
      SkipParameterInit skip;
      model = MultimodalModel(c);
    }
    // Parameter by parameter in the target dtype: a 3B model never exists in fp32.
    torch::NoGradGuard ng;
    auto params = model->named_parameters();
    Progress prog("init", params.size());
    for (auto& p : params) {
      const std::string& n = p.key();
      const bool norm = n.find("norm") != std::string::npos || n.find("ln_q") != std::string::npos;
      torch::Tensor v = norm ? torch::ones(p.value().sizes(), torch::dtype(type))
                        : n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0
                            ? torch::zeros(p.value().sizes(), torch::dtype(type))
                            : torch::randn(p.value().sizes(), torch::dtype(torch::kFloat32)).mul_(0.02).to(type);
      p.value().set_data(v);
      prog.tick(1);
    }
    prog.done();
    save_model(out, model, tok.file(), {{"init", {{"seed", seed}, {"dtype", dtype_name(type)}}}},
               {{"config", std::filesystem::absolute(config).string()}});
    std::printf("initialised %s: %s weights\n", out.c_str(), dtype_name(type).c_str());
  });
}

}  // namespace medforget::cli
