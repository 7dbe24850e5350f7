// `medforget finetune`: tokenizer (trained unless given), model preset, SFT on
// a benchmark's fine-tuning set, checkpoint. Resumes a killed run.
#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/output.hpp"
#include "core/progress.hpp"
#include "core/ranges.hpp"
#include "data/item.hpp"
#include "model/model_io.hpp"
#include "text/tokenizer.hpp"
#include "train/trainer.hpp"

namespace medforget::cli {

namespace {

struct FinetuneArgs {
  std::string bench, out, preset = "tiny", tokenizer, device = "cpu", set = "finetune.jsonl";
  int vocab_size = 0;
  TrainOptions train;
  bool force = false;
};

// Epochs and learning rate that memorise the fine-tuning set at each preset;
// they fill in only the options the command line did not give.
void preset_defaults(FinetuneArgs& a, const CLI::App& cmd) {
  struct D { const char* name; int epochs; double lr; int batch; int vocab; };
  static const D d[] = {{"tiny", 40, 3e-3, 8, 600}, {"small", 24, 3e-3, 16, 1500}, {"base", 30, 2e-3, 16, 2500}, {"large", 20, 3e-4, 32, 8000}};
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
  cmd->add_option("--set", a.set, "JSONL of the benchmark to train on (default finetune.jsonl; e.g. levels/patient/retain.jsonl)");
  cmd->add_option("--tokenizer", a.tokenizer, "Existing tokenizer.model (default: train one on the training set)");
  cmd->add_option("--vocab-size", a.vocab_size, "Tokenizer vocabulary when training one");
  cmd->add_option("--epochs", a.train.epochs, "Epochs (default per preset)");
  cmd->add_option("--lr", a.train.lr, "Peak learning rate (default per preset)");
  cmd->add_option("--batch-size", a.train.batch_size, "Batch size (default per preset)");
  cmd->add_option("--weight-decay", a.train.weight_decay, "AdamW weight decay");
  cmd->add_option("--warmup", a.train.warmup, "Warmup as a fraction of all steps");
  cmd->add_option("--grad-clip", a.train.grad_clip, "Gradient norm clip");
  cmd->add_option("--checkpoint-every", a.train.checkpoint_every, "Steps between resumable snapshots");
  cmd->add_option("--seed", a.train.seed, "Seed for initialisation and data order")->check(CLI::NonNegativeNumber);
  cmd->add_option("--device", a.device, "cpu | cuda | cuda:N");
  cmd->add_option("--stop-after", a.train.stop_after, "Stop after this many steps, as if killed (for tests)");
  cmd->add_flag("--force", a.force, "Replace a medforget directory of another kind at --out");
  cmd->callback([cmd] {
    model_preset(a.preset);  // fails early on an unknown preset
    preset_defaults(a, *cmd);  // only what was not given: a 0 given stays 0 and is refused below
    validate_train_options("finetune", a.train);
    check_option("finetune", "vocab_size", a.vocab_size);
    OutputLock lock = claim_output(a.out, {"finetune", "checkpoint", {a.bench, a.tokenizer}, a.force});
    torch::Device device = parse_device(a.device);
    std::filesystem::path bench = a.bench, out = a.out;
    Json bm = read_verified_manifest(bench, "benchmark");
    auto items = read_items(bench / a.set);
    if (items.empty()) fail((bench / a.set).string() + ": no items to train on");
    std::filesystem::path partial = out.string() + ".partial";
    std::filesystem::create_directories(partial);
    Json options = {{"bench_digest", bm.at("content_digest")}, {"set", a.set},     {"preset", a.preset},
                    {"epochs", a.train.epochs},                 {"lr", a.train.lr}, {"batch_size", a.train.batch_size},
                    {"weight_decay", a.train.weight_decay},     {"warmup", a.train.warmup},
                    {"grad_clip", a.train.grad_clip},           {"seed", a.train.seed},
                    {"vocab_size", a.vocab_size},               {"tokenizer", a.tokenizer}};
    if (std::filesystem::exists(partial / "options.json")) {
      const Json was = read_json(partial / "options.json");
      if (was != options) {
        std::string diff;
        for (const auto& [k, v] : options.items())
          if (!was.contains(k) || was.at(k) != v)
            diff += (diff.empty() ? "" : ", ") + k + " " + (was.contains(k) ? was.at(k).dump() : "(none)") + " -> " + v.dump();
        fail(partial.string() + ": an interrupted run with different options is there (" + diff +
             "); run the command as it was to resume, or delete the directory to start over");
      }
    } else {
      write_json(partial / "options.json", options);
    }
    std::filesystem::path tok_file = a.tokenizer.empty() ? partial / "tokenizer.model" : std::filesystem::path(a.tokenizer);
    if (a.tokenizer.empty() && !std::filesystem::exists(tok_file)) {
      TokenizerTrainOptions to;
      to.vocab_size = a.vocab_size;
      to.seed = a.train.seed;
      Tokenizer::train(tokenizer_texts(items), tok_file, to);
    }
    Tokenizer tok = Tokenizer::load(tok_file);
    int image_size = bm.at("params").at("image_size").get<int>();
    ModelConfig cfg = config_for(a.preset, tok, image_size);
    torch::manual_seed(a.train.seed);
    MultimodalModel model(cfg);
    ImageCache images(bench, image_size);
    auto examples = make_examples(items, tok, cfg, images);
    int64_t n_params = 0;
    for (const auto& p : model->parameters()) n_params += p.numel();
    log_info("finetune: " + std::to_string(examples.size()) + " examples, model '" + a.preset + "' with " +
             std::to_string(n_params) + " parameters, vocabulary " + std::to_string(cfg.vocab_size));
    a.train.label = "finetune";
    TrainResult r = train_sft(model, examples, tok.pad_id(), a.train, partial / "state", device);
    if (!r.finished) {
      std::printf("stopped after step %lld of %lld; run the same command again to resume\n",
                  static_cast<long long>(r.steps), static_cast<long long>(r.total_steps));
      return;
    }
    Json params = options;
    params["train_result"] = {{"steps", r.steps},
                              {"last_loss", r.last_loss},
                              {"mean_last_epoch_loss", r.mean_last_epoch_loss},
                              {"seconds", r.seconds},
                              {"tokens_per_second", r.tokens_per_second},
                              {"parameters", n_params}};
    Json inputs = {{"bench", std::filesystem::absolute(bench).string()}, {"bench_digest", bm.at("content_digest")}};
    save_model(out, model, tok_file, params, inputs);
    std::filesystem::remove_all(partial);
    if (r.resumed_from > 0) std::printf("resumed from step %lld\n", static_cast<long long>(r.resumed_from));
    std::printf("checkpoint %s: %lld steps, last-epoch loss %.4f, %.1f s, %.0f tokens/s\n", out.string().c_str(),
                static_cast<long long>(r.steps), r.mean_last_epoch_loss, r.seconds, r.tokens_per_second);
  });
}

}  // namespace medforget::cli
