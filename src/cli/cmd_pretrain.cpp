// `medforget pretrain`: a general radiology model, trained on a set that no
// benchmark draws from (data/pretrain_set.hpp), as the start of the paper's
// regime (a pretrained medical model, then LoRA fine-tuning on MedForget).
// Resumable: a killed run, or one stopped by --max-seconds, continues from its
// last snapshot when the same command is run again.
#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/output.hpp"
#include "core/progress.hpp"
#include "core/runtime.hpp"
#include "core/ranges.hpp"
#include "data/corpus.hpp"
#include "data/pretrain_set.hpp"
#include "data/preset.hpp"
#include "model/model_io.hpp"
#include "report/svg.hpp"
#include "text/tokenizer.hpp"
#include "train/trainer.hpp"

namespace medforget::cli {

namespace {

struct PretrainArgs {
  std::string out, preset = "small", device = "cpu";
  PretrainSetOptions set;
  std::vector<std::string> imports, exclude;
  int vocab_size = 0;
  TrainOptions train;
  bool force = false;
};

// Per model preset: the corpora and schedule that teach the general skills.
// `tiny` takes about a minute (tests), `small` minutes (the README run), `base`
// about 8 hours on a 2-core CPU (the paper grid's starting point).
struct PretrainDefaults {
  const char* preset;
  const char* data_preset;
  int corpora, epochs;
  double lr;
  int batch, vocab;
};
constexpr PretrainDefaults kDefaults[] = {{"tiny", "tiny", 6, 6, 3e-3, 8, 800},
                                          {"small", "small", 4, 6, 3e-3, 16, 1500},
                                          {"base", "paper", 6, 8, 2e-3, 16, 2500},
                                          {"large", "paper", 12, 8, 3e-4, 32, 8000}};

void fill_defaults(PretrainArgs& a, const CLI::App& cmd) {
  for (const auto& d : kDefaults)
    if (a.preset == d.preset) {
      if (!cmd.count("--data-preset")) a.set.data_preset = d.data_preset;
      if (!cmd.count("--corpora")) a.set.corpora = d.corpora;
      if (!cmd.count("--epochs")) a.train.epochs = d.epochs;
      if (!cmd.count("--lr")) a.train.lr = d.lr;
      if (!cmd.count("--batch-size")) a.train.batch_size = d.batch;
      if (!cmd.count("--vocab-size")) a.vocab_size = d.vocab;
    }
}

// The loss curve as a line chart: at most 40 points (a panel is a few hundred
// pixels wide), steps along x with about eight labelled, loss up.
std::string loss_curve_svg(const Json& curve, const std::string& title) {
  report::Panel panel;
  panel.title = "training loss (smoothed)";
  report::Series loss{"loss", report::palette().front(), {}};
  std::vector<size_t> picked;
  const size_t n = curve.size(), stride = std::max<size_t>(1, (n + 39) / 40);
  for (size_t i = 0; i < n; i += stride) picked.push_back(i);
  if (n > 0 && picked.back() != n - 1) picked.push_back(n - 1);
  const size_t label_every = std::max<size_t>(1, picked.size() / 8);
  for (size_t j = 0; j < picked.size(); ++j) {
    const Json& point = curve[picked[j]];
    panel.categories.push_back(j % label_every == 0 || j + 1 == picked.size()
                                   ? std::to_string(point.at(0).get<int64_t>())
                                   : "");
    loss.values.emplace_back(point.at(1).get<double>());
  }
  panel.series.push_back(loss);
  report::Chart c;
  c.kind = report::ChartKind::Lines;
  c.title = title;
  c.y_label = "loss (nats per answer token)";
  c.x_label = "step";
  c.columns = 1;
  c.panels.push_back(panel);
  return report::render_chart(c);
}

// Training throughput against the sgemm peak measured in the same process: the
// 6·N rule (forward + backward FLOPs per token for N matmul parameters; the
// embedding lookup is not a matmul) at the run's tokens/s. An estimate: image
// tokens count as decoder tokens, the vision tower's own cost is not added.
Json throughput(MultimodalModel& model, const TrainResult& r, const torch::Device& device) {
  int64_t matmul_params = 0;
  for (const auto& p : model->named_parameters())
    if (p.value().dim() == 2 && p.key().find("embed_tokens") == std::string::npos) matmul_params += p.value().numel();
  const double gflops = 6.0 * static_cast<double>(matmul_params) * r.tokens_per_second / 1e9;
  Json j = {{"tokens_per_second", r.tokens_per_second}, {"matmul_parameters", matmul_params},
            {"train_gflops", gflops}};
  if (device.is_cpu()) {
    const RuntimeInfo rt = probe_runtime(true, 1.0);
    j["sgemm_peak_gflops"] = rt.sgemm_gflops;
    j["sgemm_threads"] = rt.sgemm_threads;
    j["train_threads"] = rt.threads;
    j["fraction_of_peak"] = rt.sgemm_gflops > 0 ? gflops / rt.sgemm_gflops : 0.0;
    log_info("pretrain: " + std::to_string(static_cast<int>(gflops)) + " GFLOP/s of training (6·N·tokens/s), " +
             std::to_string(static_cast<int>(100 * j["fraction_of_peak"].get<double>())) + "% of the sgemm peak " +
             std::to_string(static_cast<int>(rt.sgemm_gflops)) + " GFLOP/s measured now");
  }
  return j;
}

}  // namespace

void register_pretrain(CLI::App& app) {
  static PretrainArgs a;
  auto* cmd = app.add_subcommand(
      "pretrain", "Pretrain a general radiology model on corpora no benchmark draws from (resumes a killed run)");
  cmd->add_option("--out", a.out, "Output checkpoint directory")->required();
  cmd->add_option("--preset", a.preset, "Model preset: tiny | small | base | large");
  cmd->add_option("--data-preset", a.set.data_preset,
                  "Shape and image size of each synthetic corpus: tiny | small | paper (default per model preset; "
                  "use the image size of the benchmarks the model will be fine-tuned on)");
  cmd->add_option("--corpora", a.set.corpora, "Synthetic corpora, each under a seed of its own (default per preset)");
  cmd->add_option("--corpus", a.imports, "A corpus made by `data import` to add (repeatable)");
  cmd->add_option("--exclude", a.exclude,
                  "A benchmark that must share nothing with the pretraining set: its patients are dropped from "
                  "imported corpora, and any identity or image of it in the set is an error (repeatable)");
  cmd->add_option("--image-size", a.set.image_size, "Radiograph size in pixels (default: the data preset's)");
  cmd->add_option("--vocab-size", a.vocab_size, "Tokenizer vocabulary (trained on the pretraining set)");
  add_train_options(cmd, a.train);
  cmd->add_option("--max-seconds", a.train.max_seconds,
                  "Save a snapshot and stop after this many seconds of training; the same command continues");
  cmd->add_option("--seed", a.set.seed, "Seed for the corpora, initialisation and data order")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--device", a.device, "cpu | cuda | cuda:N");
  cmd->add_option("--stop-after", a.train.stop_after, "Stop after this many steps, as if killed (for tests)");
  cmd->add_flag("--force", a.force, "Replace a medforget directory of another kind at --out");
  cmd->callback([cmd] {
    model_preset(a.preset);  // fails early on an unknown preset
    data_preset(a.set.data_preset);
    fill_defaults(a, *cmd);
    a.train.seed = a.set.seed;
    a.train.label = "pretrain";
    validate_train_options("pretrain", a.train);
    check_option("pretrain", "vocab_size", a.vocab_size);
    check_range("pretrain", "corpora", a.set.corpora, between(0, 1000));
    if (a.set.image_size != 0) check_option("pretrain", "image_size", a.set.image_size);
    a.set.import_dirs.assign(a.imports.begin(), a.imports.end());
    a.set.exclude.assign(a.exclude.begin(), a.exclude.end());
    if (a.set.corpora == 0 && a.set.import_dirs.empty())
      fail("pretrain: --corpora 0 and no --corpus: there is nothing to pretrain on");
    for (const auto& b : a.set.exclude) read_verified_manifest(b, "benchmark");  // before any output exists
    for (const auto& c : a.set.import_dirs) corpus_digest(c);
    std::vector<std::filesystem::path> inputs_paths(a.set.import_dirs);
    inputs_paths.insert(inputs_paths.end(), a.set.exclude.begin(), a.set.exclude.end());
    OutputLock lock = claim_output(a.out, {"pretrain", "checkpoint", inputs_paths, a.force});
    const torch::Device device = parse_device(a.device);
    const std::filesystem::path out = a.out, partial = out.string() + ".partial", set_dir = partial / "set";
    std::filesystem::create_directories(partial);
    Json options = {{"set", a.set.to_json()},         {"preset", a.preset},
                    {"epochs", a.train.epochs},       {"lr", a.train.lr},
                    {"batch_size", a.train.batch_size}, {"weight_decay", a.train.weight_decay},
                    {"warmup", a.train.warmup},       {"grad_clip", a.train.grad_clip},
                    {"vocab_size", a.vocab_size}};
    record_or_check_options(partial, options);
    if (!std::filesystem::exists(set_dir / "manifest.json")) build_pretrain_set(a.set, set_dir);
    const Json set_manifest = read_verified_manifest(set_dir, "pretrain_set");
    const auto items = read_items(set_dir / "items.jsonl");
    const auto tok_file = partial / "tokenizer.json";
    if (!std::filesystem::exists(tok_file)) {
      std::vector<std::string> texts;
      for (const auto& it : items) texts.insert(texts.end(), {it.prompt, it.answer});
      TokenizerTrainOptions to;
      to.vocab_size = a.vocab_size;
      Tokenizer::train(texts, tok_file, to);
    }
    const Tokenizer tok = Tokenizer::load(tok_file);
    const int image_size = a.set.image_size ? a.set.image_size : data_preset(a.set.data_preset).image_size;
    const ModelConfig cfg = config_for(a.preset, tok, image_size);
    torch::manual_seed(a.set.seed);
    MultimodalModel model(cfg);
    ImageCache images(set_dir, cfg.image_processor);
    const auto examples = make_examples(items, tok, cfg, images);
    int64_t n_params = 0;
    for (const auto& p : model->parameters()) n_params += p.numel();
    log_info("pretrain: " + std::to_string(examples.size()) + " examples from " +
             set_manifest.at("counts").at("studies").dump() + " studies, model '" + a.preset + "' with " +
             std::to_string(n_params) + " parameters, vocabulary " + std::to_string(cfg.vocab_size));
    TrainResult r = train_sft(model, examples, tok.pad_id(), a.train, partial / "state", device);
    if (stopped_early(r)) return;
    Json params = options;
    params["regime"] = "pretrained";
    params["set_digest"] = set_manifest.at("content_digest");
    params["set_counts"] = set_manifest.at("counts");
    params["corpus_seeds"] = set_manifest.at("inputs").at("corpus_seeds");
    params["train_result"] = train_result_json(r, n_params);
    params["train_result"]["resumed_from"] = r.resumed_from;
    params["loss_curve"] = r.loss_curve;
    params["throughput"] = throughput(model, r, device);
    Json inputs = Json::object();
    for (size_t k = 0; k < a.set.exclude.size(); ++k)
      inputs["exclude_" + std::to_string(k + 1)] = read_verified_manifest(a.set.exclude[k], "benchmark").at("content_digest");
    for (size_t k = 0; k < a.set.import_dirs.size(); ++k)
      inputs["corpus_" + std::to_string(k + 1)] = corpus_digest(a.set.import_dirs[k]);
    const std::string svg = loss_curve_svg(r.loss_curve, "medforget pretrain: preset " + a.preset + ", " +
                                                             std::to_string(r.steps) + " steps");
    save_model(out, model, tok_file, params, inputs, {{"loss_curve.svg", svg}});
    std::filesystem::remove_all(partial);
    if (r.resumed_from > 0) std::printf("resumed from step %lld\n", static_cast<long long>(r.resumed_from));
    std::printf("pretrained model %s: %lld steps, last-epoch loss %.4f, %.1f s, %.0f tokens/s\n", out.string().c_str(),
                static_cast<long long>(r.steps), r.mean_last_epoch_loss, r.seconds, r.tokens_per_second);
  });
}

}  // namespace medforget::cli
