// `medforget eval`: score a checkpoint on a level's forget, retain,
// forget-rephrase and general sets (or any item file), per item and summarised.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/output.hpp"
#include "core/ranges.hpp"
#include "data/hierarchy.hpp"
#include "core/progress.hpp"
#include "eval/evaluator.hpp"
#include "eval/result_header.hpp"
#include "cli/common.hpp"

namespace medforget::cli {

namespace {

std::string pct(double v) {
  if (std::isnan(v)) return "   -  ";
  char b[16];
  std::snprintf(b, sizeof b, "%6.2f", 100 * v);
  return b;
}

std::string num(double v) {
  if (std::isnan(v)) return "   -  ";
  char b[16];
  std::snprintf(b, sizeof b, "%6.2f", v);
  return b;
}

}  // namespace

void print_summary_header() {
  std::printf("%-16s %8s %6s %8s %8s %8s %9s %6s\n", "set", "Gen", "Fact", "ROUGE-L", "Cloze", "Class", "Identity",
              "items");
}

void print_summary_row(const std::string& name, const SetSummary& s, size_t n) {
  std::printf("%-16s %8s %6s %8s %8s %8s %9s %6zu\n", name.c_str(), num(s.gen_score).c_str(),
              num(s.factuality).c_str(),
              pct(s.rouge_l).c_str(), pct(s.cloze_acc).c_str(), pct(s.class_acc).c_str(),
              pct(s.identity_acc).c_str(), n);
}

void register_eval(CLI::App& app) {
  static std::string model, bench, level, sets = "forget,retain,forget_rephrase,general", file, out, device = "cpu",
                     label, dtype;
  static int64_t limit = 0;
  static bool force = false;
  static int batch = 16, max_new = 160;
  auto* cmd = app.add_subcommand("eval", "Evaluate a checkpoint on benchmark sets (ROUGE-L, Cloze Acc, Class Acc, identity)");
  cmd->add_option("--model", model, "Checkpoint directory")->required();
  cmd->add_option("--bench", bench, "Benchmark directory")->required();
  cmd->add_option("--level", level, "institution | patient | study | section (selects the level's sets)");
  cmd->add_option("--sets", sets, "Comma-separated: forget, retain, forget_rephrase, general");
  cmd->add_option("--file", file, "Evaluate this JSONL of the benchmark instead (e.g. finetune.jsonl)");
  cmd->add_option("--out", out, "Output directory (per-item JSONL + summary.json)")->required();
  cmd->add_option("--limit", limit, "Evaluate only the first N items of each set");
  cmd->add_option("--batch-size", batch, "Batch size");
  cmd->add_option("--max-new-tokens", max_new, "Generation budget");
  cmd->add_option("--device", device, "cpu | cuda");
  cmd->add_option("--dtype", dtype, "Compute dtype: bf16 | fp16 | fp32 (default: bf16 for a Hugging Face checkpoint on CUDA, else fp32)");
  cmd->add_option("--label", label, "Display name in reports (default: the model's method)");
  cmd->add_flag("--force", force, "Replace a medforget directory of another kind at --out");
  cmd->callback([] {
    if (level.empty() && file.empty()) fail("eval: give --level or --file");
    check_option("eval", "max_new_tokens", max_new);
    check_option("eval", "limit", static_cast<double>(limit));
    check_option("eval", "batch_size", batch);
    OutputLock lock = claim_output(out, {"eval", "eval", {model, bench}, force});
    std::filesystem::path bdir = bench;
    Json bm = read_verified_manifest(bdir, "benchmark");
    EvalOptions opt;
    opt.batch_size = batch;
    opt.max_new_tokens = max_new;
    opt.limit = limit;
    opt.device = parse_device(device);
    const auto compute = dtype_option(dtype);
    Json summary = result_header("medforget-eval", model, bdir, level, label);
    auto judge = judge_for_cli();
    opt.judge = judge ? &*judge : nullptr;
    LoadedModel m = load_model(model, opt.device, compute);
    std::vector<std::pair<std::string, std::filesystem::path>> todo;
    if (!file.empty()) {
      todo.emplace_back(std::filesystem::path(file).stem().string(), bdir / file);
    } else {
      level_from_name(level);
      for (const auto& s : split_list(sets)) {
        if (s == "general") todo.emplace_back(s, bdir / "general.jsonl");
        else if (s == "forget" || s == "retain" || s == "forget_rephrase")
          todo.emplace_back(s, bdir / "levels" / level / (s + ".jsonl"));
        else fail("eval: unknown set '" + s + "' (expected forget, retain, forget_rephrase or general)");
      }
    }
    ImageCache images(bdir, m.config.image_processor);
    StagingDir stage(out);
    summary["sets"] = Json::object();
    print_summary_header();
    for (const auto& [name, path] : todo) {
      auto items = read_items(path);
      if (items.empty()) {
        log_warn("eval: " + path.string() + " has no items; its metrics are recorded as missing (null)");
        summary["sets"][name] = summarize({}).to_json();  // every metric NaN -> null
        write_jsonl(stage.path() / (name + ".jsonl"), {});
        continue;
      }
      auto res = evaluate_items(m, items, images, opt);
      std::vector<Json> rows;
      for (const auto& r : res) rows.push_back(r.to_json());
      write_jsonl(stage.path() / (name + ".jsonl"), rows);
      SetSummary s = summarize(res);
      summary["sets"][name] = s.to_json();
      print_summary_row(name, s, res.size());
    }
    write_json(stage.path() / "summary.json", summary);
    write_manifest(stage.path(), "eval", {{"level", level}, {"sets", sets}, {"file", file}, {"limit", limit}},
                   {{"model", std::filesystem::absolute(model).string()},
                    {"model_digest", read_model_manifest(model).at("content_digest")},
                    {"bench_digest", bm.at("content_digest")}});
    stage.commit();
  });
}

}  // namespace medforget::cli
