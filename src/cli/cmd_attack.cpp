// `medforget attack`: the hierarchical reconstruction attack (paper §5.4,
// Table 6). Every forgotten section-generation item of a level is asked again
// with no context, then with its study, patient + study and institution +
// patient + study identifiers; the leaked Gen Score per context is Figure 6.
#include <cmath>
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/output.hpp"
#include "core/ranges.hpp"
#include "data/hierarchy.hpp"
#include "eval/evaluator.hpp"
#include "eval/result_header.hpp"

namespace medforget::cli {

void register_attack(CLI::App& app) {
  static std::string model, bench, level, out, device = "cpu", label, dtype;
  static int64_t limit = 0;
  static bool force = false;
  static int batch = 16, max_new = 160;
  auto* cmd = app.add_subcommand("attack", "Hierarchical reconstruction attack on a level's forgotten sections");
  cmd->add_option("--model", model, "Checkpoint directory (usually an unlearned one)")->required();
  cmd->add_option("--bench", bench, "Benchmark directory")->required();
  cmd->add_option("--level", level, "The unlearning level whose forgotten sections are attacked")->required();
  cmd->add_option("--out", out, "Output directory (attack.jsonl per sample + attack.json)")->required();
  cmd->add_option("--limit", limit, "Attack only the first N prompts");
  cmd->add_option("--batch-size", batch, "Batch size");
  cmd->add_option("--max-new-tokens", max_new, "Generation budget");
  cmd->add_option("--device", device, "cpu | cuda");
  cmd->add_option("--dtype", dtype, "Compute dtype: bf16 | fp16 | fp32 (default: bf16 for a Hugging Face checkpoint on CUDA, else fp32)");
  cmd->add_option("--label", label, "Display name in reports (default: the model's method)");
  cmd->add_flag("--force", force, "Replace a medforget directory of another kind at --out");
  cmd->callback([] {
    check_option("attack", "max_new_tokens", max_new);
    check_option("attack", "limit", static_cast<double>(limit));
    check_option("attack", "batch_size", batch);
    OutputLock lock = claim_output(out, {"attack", "attack", {model, bench}, force});
    std::filesystem::path bdir = bench;
    level_from_name(level);
    Json header = result_header("medforget-attack", model, bdir, level, label);
    auto items = read_items(bdir / "levels" / level / "attack.jsonl");
    if (items.empty()) fail((bdir / "levels" / level / "attack.jsonl").string() + ": no attack prompts");
    EvalOptions opt;
    opt.batch_size = batch;
    opt.max_new_tokens = max_new;
    opt.limit = limit;
    opt.device = parse_device(device);
    const auto compute = dtype_option(dtype);
    auto judge = judge_for_cli();
    opt.judge = judge ? &*judge : nullptr;
    LoadedModel m = load_model(model, opt.device, compute);
    ImageCache images(bdir, m.config.image_processor);
    auto res = evaluate_items(m, items, images, opt);
    StagingDir stage(out);
    std::vector<Json> rows;
    for (const auto& r : res) rows.push_back(r.to_json());
    write_jsonl(stage.path() / "attack.jsonl", rows);
    Json contexts = Json::object();
    std::printf("%-28s %8s %6s %8s %6s\n", "context", "Gen", "Fact", "ROUGE-L", "items");
    const auto by = summarize_by_context(res);
    for (const char* c : {"none", "study", "patient+study", "institution+patient+study"}) {
      auto it = by.find(c);
      if (it == by.end()) continue;
      const SetSummary& s = it->second;
      contexts[c] = {{"n", s.n_generation},
                     {"gen_score", s.gen_score},
                     {"rouge_l", s.rouge_l},
                     {"factuality", s.factuality}};
      std::printf("%-28s %8.2f %6.2f %8.2f %6zu\n", c, s.gen_score, s.factuality, 100 * s.rouge_l, s.n_generation);
    }
    header["contexts"] = contexts;
    write_json(stage.path() / "attack.json", header);
    write_manifest(stage.path(), "attack", {{"level", level}, {"limit", limit}, {"max_new_tokens", max_new}},
                   {{"model_digest", header["model_digest"]}, {"bench_digest", header["bench_digest"]}});
    stage.commit();
  });
}

}  // namespace medforget::cli
