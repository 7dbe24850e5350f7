// `medforget finetune`: tokenizer (trained unless given), model preset, SFT on
// a benchmark's fine-tuning set, checkpoint. Resumes a killed run.
#include <cstdio>
#include <filesystem>
#include <optional>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/output.hpp"
#include "core/progress.hpp"
#include "core/ranges.hpp"
#include "data/item.hpp"
#include "model/lora.hpp"
#include "model/model_io.hpp"
#include "text/tokenizer.hpp"
#include "train/trainer.hpp"

namespace medforget::cli {

namespace {

struct FinetuneArgs {
  std::string bench, out, preset = "tiny", tokenizer, device = "cpu", set = "finetune.jsonl";
  std::string model, lora, dtype;  // fine-tune an existing model (Hugging Face or medforget), LoRA spec
  bool merge = false;
  int vocab_size = 0;
  TrainOptions train;
  bool force = false;
};

// Epochs and learning rate that memorise the fine-tuning set at each preset;
// they fill in only the options the command line did not give.
// A pretrained model (--model) gets the usual supervised fine-tuning settings:
// 3 epochs, 1e-5 for all weights or 2e-4 for LoRA adapters.
void preset_defaults(FinetuneArgs& a, const CLI::App& cmd) {
  struct D { const char* name; int epochs; double lr; int batch; int vocab; };
  static const D d[] = {{"tiny", 40, 3e-3, 8, 600}, {"small", 24, 3e-3, 16, 1500}, {"base", 30, 2e-3, 16, 2500}, {"large", 20, 3e-4, 32, 8000}};
  if (!a.model.empty()) {
    if (!cmd.count("--epochs")) a.train.epochs = 3;
    if (!cmd.count("--lr")) a.train.lr = a.lora.empty() ? 1e-5 : 2e-4;
    if (!cmd.count("--batch-size")) a.train.batch_size = 8;
    if (!cmd.count("--vocab-size")) a.vocab_size = 600;  // unused: the model brings its tokenizer
    return;
  }
  for (const auto& x : d)
    if (a.preset == x.name) {
      if (!cmd.count("--epochs")) a.train.epochs = x.epochs;
      if (!cmd.count("--lr")) a.train.lr = x.lr;
      if (!cmd.count("--batch-size")) a.train.batch_size = x.batch;
      if (!cmd.count("--vocab-size")) a.vocab_size = x.vocab;
    }
}

std::vector<std::string> tokenizer_texts(const std::vector<Item>& items) {
  std::vector<std::string> t;
  for (const auto& it : items) {
    t.push_back(it.prompt);
    t.push_back(it.answer);
  }
  return t;
}

}  // namespace

void register_finetune(CLI::App& app) {
  static FinetuneArgs a;
  a.train.epochs = 0;
  a.train.lr = 0;
  a.train.batch_size = 0;
  auto* cmd = app.add_subcommand("finetune", "Fine-tune the multimodal model on a benchmark (resumes a killed run)");
  cmd->add_option("--bench", a.bench, "Benchmark directory")->required();
  cmd->add_option("--out", a.out, "Output checkpoint directory")->required();
  cmd->add_option("--preset", a.preset, "Model preset: tiny | small | base | large");
  cmd->add_option("--model", a.model,
                  "Fine-tune this model instead of a new preset one: a Hugging Face Qwen2.5-VL directory, a medforget "
                  "checkpoint or a PEFT adapter directory (its tokenizer and image processor are used)");
  cmd->add_option("--lora", a.lora,
                  "Train LoRA adapters only (needs --model): r=R,alpha=A,dropout=P,targets=q_proj,k_proj,... "
                  "(default r=8,alpha=16,dropout=0.05, the attention and MLP projections); writes a PEFT adapter "
                  "directory unless --merge");
  cmd->add_flag("--merge", a.merge, "With --lora: fold the adapters into the weights and write a full checkpoint");
  cmd->add_option("--dtype", a.dtype, "Compute dtype with --model: bf16 | fp16 | fp32 (default: as for eval)");
  cmd->add_option("--set", a.set, "JSONL of the benchmark to train on (default finetune.jsonl; e.g. levels/patient/retain.jsonl)");
  cmd->add_option("--tokenizer", a.tokenizer, "Existing tokenizer.json (default: train one on the training set)");
  cmd->add_option("--vocab-size", a.vocab_size, "Tokenizer vocabulary when training one");
  add_train_options(cmd, a.train);
  cmd->add_option("--seed", a.train.seed, "Seed for initialisation and data order")->check(CLI::NonNegativeNumber);
  cmd->add_option("--device", a.device, "cpu | cuda | cuda:N");
  cmd->add_option("--stop-after", a.train.stop_after, "Stop after this many steps, as if killed (for tests)");
  cmd->add_flag("--force", a.force, "Replace a medforget directory of another kind at --out");
  cmd->callback([cmd] {
    const bool pretrained = !a.model.empty();
    if (pretrained && cmd->count("--preset")) fail("finetune: give --preset (a new model) or --model (an existing one), not both");
    if (pretrained && !a.tokenizer.empty()) fail("finetune: --tokenizer is for a new model; --model brings its own");
    if (!a.lora.empty() && !pretrained) fail("finetune: --lora needs --model (adapters go on an existing model)");
    if (a.merge && a.lora.empty()) fail("finetune: --merge needs --lora");
    if (!pretrained) model_preset(a.preset);  // fails early on an unknown preset
    std::optional<LoraConfig> lora;
    if (!a.lora.empty()) lora = LoraConfig::parse(a.lora == "default" ? "" : a.lora);
    const auto dtype = dtype_option(a.dtype);
    preset_defaults(a, *cmd);  // only what was not given: a 0 given stays 0 and is refused below
    validate_train_options("finetune", a.train);
    check_option("finetune", "vocab_size", a.vocab_size);
    OutputLock lock = claim_output(a.out, {"finetune", "checkpoint", {a.bench, a.tokenizer, a.model}, a.force});
    torch::Device device = parse_device(a.device);
    std::filesystem::path bench = a.bench, out = a.out;
    Json bm = read_verified_manifest(bench, "benchmark");
    auto items = read_items(bench / a.set);
    if (items.empty()) fail((bench / a.set).string() + ": no items to train on");
    const Json model_digest = pretrained ? read_model_manifest(a.model).at("content_digest") : Json(nullptr);
    std::filesystem::path partial = out.string() + ".partial";
    std::filesystem::create_directories(partial);
    Json options = {{"bench_digest", bm.at("content_digest")}, {"set", a.set},     {"preset", pretrained ? "" : a.preset},
                    {"epochs", a.train.epochs},                 {"lr", a.train.lr}, {"batch_size", a.train.batch_size},
                    {"weight_decay", a.train.weight_decay},     {"warmup", a.train.warmup},
                    {"grad_clip", a.train.grad_clip},           {"seed", a.train.seed},
                    {"vocab_size", a.vocab_size},               {"tokenizer", a.tokenizer}};
    if (pretrained) {
      options["model"] = std::filesystem::absolute(a.model).string();
      options["model_digest"] = model_digest;
      options["lora"] = lora ? lora->adapter_config("").at("target_modules") : Json(nullptr);
      if (lora) options["lora_spec"] = {{"r", lora->r}, {"alpha", lora->alpha}, {"dropout", lora->dropout}};
      options["merge"] = a.merge;
      options["dtype"] = a.dtype;
    }
    record_or_check_options(partial, options);
    std::optional<LoadedModel> base;
    Tokenizer tok;
    ModelConfig cfg;
    MultimodalModel model{nullptr};
    std::filesystem::path tok_file;
    if (pretrained) {
      base.emplace(load_model(a.model, torch::kCPU, dtype));
      tok = std::move(base->tokenizer);
      tok_file = tok.file();
      cfg = base->config;
      model = base->model;
      torch::manual_seed(a.train.seed);  // the adapters' initial A
      if (lora) apply_lora(model, *lora);
    } else {
      tok_file = a.tokenizer.empty() ? partial / "tokenizer.json" : std::filesystem::path(a.tokenizer);
      if (a.tokenizer.empty() && !std::filesystem::exists(tok_file)) {
        TokenizerTrainOptions to;
        to.vocab_size = a.vocab_size;
        Tokenizer::train(tokenizer_texts(items), tok_file, to);
      }
      tok = Tokenizer::load(tok_file);
      int image_size = bm.at("params").at("image_size").get<int>();
      cfg = config_for(a.preset, tok, image_size);
      torch::manual_seed(a.train.seed);
      model = MultimodalModel(cfg);
    }
    ImageCache images(bench, cfg.image_processor);
    auto examples = make_examples(items, tok, cfg, images);
    int64_t n_params = 0;
    for (const auto& p : model->parameters()) n_params += p.numel();
    int64_t n_trained = 0;
    for (const auto& p : model->parameters())
      if (p.requires_grad()) n_trained += p.numel();
    log_info("finetune: " + std::to_string(examples.size()) + " examples, model " +
             (pretrained ? a.model : "'" + a.preset + "'") + " with " + std::to_string(n_params) + " parameters (" +
             std::to_string(n_trained) + " trained), vocabulary " + std::to_string(cfg.vocab_size));
    a.train.label = "finetune";
    TrainResult r = train_sft(model, examples, tok.pad_id(), a.train, partial / "state", device);
    if (stopped_early(r)) return;
    Json params = options;
    params["train_result"] = train_result_json(r, n_params);
    Json inputs = {{"bench", std::filesystem::absolute(bench).string()}, {"bench_digest", bm.at("content_digest")}};
    if (pretrained) inputs["model"] = options["model"], inputs["model_digest"] = model_digest;
    if (lora && !a.merge) {
      // A PEFT adapter directory that names its base; `--model OUT` loads both.
      StagingDir stage(out);
      const std::string base_dir = std::filesystem::absolute(base->adapter.empty() ? base->dir : base->dir).string();
      save_lora_adapter(model, *lora, stage.path(), base_dir);
      params["format"] = "peft-adapter";
      write_manifest(stage.path(), "checkpoint", params, inputs);
      stage.commit();
    } else {
      if (lora) merge_lora(model);
      save_model(out, model, tok_file, params, inputs);
    }
    std::filesystem::remove_all(partial);
    if (r.resumed_from > 0) std::printf("resumed from step %lld\n", static_cast<long long>(r.resumed_from));
    std::printf("checkpoint %s: %lld steps, last-epoch loss %.4f, %.1f s, %.0f tokens/s\n", out.string().c_str(),
                static_cast<long long>(r.steps), r.mean_last_epoch_loss, r.seconds, r.tokens_per_second);
  });
}

}  // namespace medforget::cli
