// `medforget mia`: membership inference on a level's forget set (members)
// against the general set (never trained on): LOSS, zlib, Min-K% and
// Min-K%++ AUCs; with --retrained, forget quality (KS test) and PrivLeak.
#include <cstdio>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "core/manifest.hpp"
#include "core/output.hpp"
#include "core/ranges.hpp"
#include "data/hierarchy.hpp"
#include "eval/mia_report.hpp"
#include "eval/result_header.hpp"
#include "eval/torch_mia.hpp"

namespace medforget::cli {

namespace {

std::vector<Item> first(std::vector<Item> v, size_t n) {
  if (n && v.size() > n) v.resize(n);
  return v;
}

std::vector<MiaExample> examples_of(const std::filesystem::path& model_dir, const std::filesystem::path& bdir,
                                    const std::vector<Item>& forget, const std::vector<Item>& general,
                                    int batch, const torch::Device& dev, std::optional<torch::ScalarType> dtype) {
  LoadedModel m = load_model(model_dir, dev, dtype);
  ImageCache images(bdir, m.config.image_processor);
  auto ex = mia_examples(m, forget, "forget", images, batch, dev);
  auto g = mia_examples(m, general, "general", images, batch, dev);
  ex.insert(ex.end(), g.begin(), g.end());
  return ex;
}

// The retrained model's samples from its own `medforget mia` run (DIR), checked
// to describe the same request: same benchmark, level, Min-K fraction and limit.
std::vector<MiaSample> retrained_samples(const std::filesystem::path& dir, const Json& header, double k,
                                         size_t limit, std::string& retrained_digest) {
  const Json man = read_manifest(dir, "mia");
  const Json j = read_json(dir / "mia.json");
  const std::string where = "--retrained-mia " + dir.string() + ": ";
  if (j.at("bench_digest") != header.at("bench_digest"))
    fail(where + "it was measured on a different benchmark (bench digest " +
         j.at("bench_digest").get<std::string>().substr(0, 12) + ")");
  if (j.at("level") != header.at("level"))
    fail(where + "it is the " + j.at("level").dump() + " level's forget set, not the " + header.at("level").dump() +
         " level's");
  const Json& p = man.at("params");
  if (p.at("k").get<double>() != k || p.at("limit").get<size_t>() != limit)
    fail(where + "it used --k " + p.at("k").dump() + " --limit " + p.at("limit").dump() + ", this run --k " +
         Json(k).dump() + " --limit " + std::to_string(limit));
  retrained_digest = j.at("model_digest");
  std::vector<MiaSample> out;
  for (const auto& row : read_jsonl(dir / "mia.jsonl")) out.push_back(mia_sample_from_json(row));
  return out;
}

}  // namespace

void register_mia(CLI::App& app) {
  static std::string model, bench, level, out, device = "cpu", label, retrained, retrained_mia, dtype;
  static int64_t limit = 0;
  static bool force = false;
  static int batch = 16;
  static double k = kDefaultMinK;
  auto* cmd = app.add_subcommand("mia", "Membership inference: forget set vs held-out general set");
  cmd->add_option("--model", model, "Checkpoint directory")->required();
  cmd->add_option("--bench", bench, "Benchmark directory")->required();
  cmd->add_option("--level", level, "Level whose forget set are the members")->required();
  auto* ret_opt = cmd->add_option("--retrained", retrained,
                                  "Retrained-without-forget checkpoint: adds forget quality and PrivLeak");
  cmd->add_option("--retrained-mia", retrained_mia,
                  "Instead of --retrained: the output directory of `medforget mia` on the retrained checkpoint "
                  "(same benchmark, level, --k and --limit), so its scores are read, not recomputed")
      ->excludes(ret_opt);
  cmd->add_option("--out", out, "Output directory (mia.jsonl per sample + mia.json)")->required();
  cmd->add_option("--k", k, "Min-K% / Min-K%++ fraction");
  cmd->add_option("--limit", limit, "Use only the first N items of each set");
  cmd->add_option("--batch-size", batch, "Batch size");
  cmd->add_option("--device", device, "cpu | cuda");
  cmd->add_option("--dtype", dtype, "Compute dtype: bf16 | fp16 | fp32 (default: bf16 for a Hugging Face checkpoint on CUDA, else fp32)");
  cmd->add_option("--label", label, "Display name in reports (default: the model's method)");
  cmd->add_flag("--force", force, "Replace a medforget directory of another kind at --out");
  cmd->callback([] {
    check_option("mia", "k", k);
    check_option("mia", "limit", static_cast<double>(limit));
    check_option("mia", "batch_size", batch);
    OutputLock lock = claim_output(out, {"mia", "mia", {model, bench, retrained, retrained_mia}, force});
    std::filesystem::path bdir = bench;
    level_from_name(level);
    Json header = result_header("medforget-mia", model, bdir, level, label);
    auto forget = first(read_items(bdir / "levels" / level / "forget.jsonl"), limit);
    auto general = first(read_items(bdir / "general.jsonl"), limit);
    const auto dev = parse_device(device);
    MiaOptions mo;
    mo.k = k;
    std::string retrained_digest;
    std::vector<MiaSample> ret_samples;
    if (!retrained_mia.empty())  // checked before the model's pass, so a mismatch costs nothing
      ret_samples = retrained_samples(retrained_mia, header, k, limit, retrained_digest);
    auto ex = examples_of(model, bdir, forget, general, batch, dev, dtype_option(dtype));
    MiaReport rep;
    if (!retrained.empty()) {
      retrained_digest = read_model_manifest(retrained).at("content_digest");
      // The retrained model measured against itself (the oracle's own row) needs no second pass.
      rep = retrained_digest == header.at("model_digest")
                ? mia_report(ex, ex, mo)
                : mia_report(ex, examples_of(retrained, bdir, forget, general, batch, dev, dtype_option(dtype)), mo);
    } else {
      rep = retrained_mia.empty() ? mia_report(ex, mo) : mia_report(ex, ret_samples, mo);
    }
    StagingDir stage(out);
    write_jsonl(stage.path() / "mia.jsonl", rep.samples_jsonl());
    Json j = rep.to_json();
    for (const auto& [key, v] : header.items()) j[key] = v;
    if (!retrained_digest.empty()) j["retrained_digest"] = retrained_digest;
    write_json(stage.path() / "mia.json", j);
    write_manifest(stage.path(), "mia", {{"level", level}, {"k", k}, {"limit", limit}},
                   {{"model_digest", header["model_digest"]}, {"bench_digest", header["bench_digest"]},
                    {"retrained", retrained}, {"retrained_mia", retrained_mia}});
    stage.commit();
    std::printf("membership inference, %s level: %zu forget vs %zu general items\n", level.c_str(), rep.n_forget,
                rep.n_general);
    std::printf("AUC  loss %.3f  zlib %.3f  min-k %.3f  min-k++ %.3f\n", rep.auc.loss, rep.auc.zlib, rep.auc.min_k,
                rep.auc.min_k_pp);
    if (rep.forget_quality)
      std::printf("forget quality (KS p-value) %.4g; PrivLeak (loss) %.2f\n", rep.forget_quality->p_value,
                  rep.privleak->loss);
  });
}

}  // namespace medforget::cli
