#include "report/report.hpp"

#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "report/figures.hpp"
#include "report/html.hpp"
#include "report/results.hpp"
#include "report/tables.hpp"

namespace medforget::report {

namespace {

struct Pending {
  std::string name;
  std::string content;
};

const char* kFig5Caption =
    "Performance of the unlearning methods on the Forget, Retain, Forget Rephrase and General Med "
    "sets "
    "across hierarchy levels: Inst. (Institution), Pat. (Patient), Stu. (Study), Sec. (Section). "
    "The "
    "dashed line is the vanilla (pre-unlearning) model; a level without a bar was not measured.";

const char* kFig6Caption =
    "Section-level leakage across unlearning granularities with hierarchical prompts. Each panel "
    "adds "
    "hierarchical identifiers to the prompt; the x-axis orders the unlearning level from Sec. "
    "(finest) "
    "to Inst. (coarsest). Lower Gen Score means better forgetting, higher means more leakage; a "
    "break "
    "in a line is a level that was not measured.";

}  // namespace

std::string regime_sentence(const std::string& regime) {
  if (regime.empty()) return "";
  if (regime == "scratch") return "Regime: from scratch (a new model fine-tuned on the benchmark until it memorises it).";
  if (regime == "pretrained")
    return "Regime: pretrained (a general radiology model, LoRA-fine-tuned on the benchmark, as in the paper).";
  fail("report: regime '" + regime + "' (expected scratch or pretrained)");
}

ReportOutputs write_report(const std::vector<std::filesystem::path>& inputs,
                           const std::filesystem::path& out_dir, const std::string& regime) {
  const std::string regime_text = regime_sentence(regime);
  const ResultSet rs = load_results(inputs);
  const bool attack = rs.any(Kind::Attack), mia = rs.any(Kind::Mia);

  std::vector<Pending> files;
  std::vector<HtmlItem> items;
  ReportOutputs out;
  auto add_table = [&](Table t) {
    if (!regime_text.empty()) t.caption += (t.caption.empty() ? "" : " ") + regime_text;
    std::string md = to_markdown(t);
    files.push_back({t.name + ".md", md});
    files.push_back({t.name + ".csv", to_csv(t)});
    items.push_back(table_item(t, {t.name + ".md", t.name + ".csv"}));
    return md;
  };
  auto add_chart = [&](const std::string& name, const Chart& c, const std::string& caption) {
    Chart titled = c;
    if (!regime.empty()) titled.title += " (" + regime + " regime)";
    std::string svg = render_chart(titled);
    files.push_back({name + ".svg", svg});
    items.push_back({name, titled.title, caption, svg, {name + ".svg"}});
  };

  out.summary_markdown = add_table(table3(rs));
  out.summary_markdown.append("\n").append(add_table(fr_diff_table(rs)));
  // The pivots say more than fr_diff only when a run covers several levels
  // (then fr_diff cannot hold Vanilla's distance to each level's Retrain).
  const std::string by_level = add_table(fr_diff_by_level_table(rs));
  const std::string dist_by_level = add_table(retrain_distance_by_level_table(rs));
  std::set<Level> levels;
  for (const auto& e : rs.entries)
    if (e.level) levels.insert(*e.level);
  if (levels.size() > 1)
    out.summary_markdown.append("\n").append(by_level).append("\n").append(dist_by_level);
  for (Fig5Metric m : {Fig5Metric::GenScore, Fig5Metric::ClassAcc, Fig5Metric::ClozeAcc})
    add_chart(fig5_name(m), figure5(rs, m), kFig5Caption);
  add_table(generation_table(rs));
  if (attack) {
    add_table(attack_table(rs));
    add_chart("fig6_leakage", figure6(rs), kFig6Caption);
  }
  if (mia) add_table(mia_table(rs));
  files.push_back({"report.html", render_html(rs, items)});

  std::filesystem::create_directories(out_dir);
  std::vector<std::string> stale;
  if (!attack) stale = {"attack.md", "attack.csv", "fig6_leakage.svg"};
  if (!mia) stale.insert(stale.end(), {"mia.md", "mia.csv"});
  for (const auto& s : stale) std::filesystem::remove(out_dir / s);
  for (const auto& f : files) {
    write_atomic(out_dir / f.name, f.content);
    out.files.push_back(out_dir / f.name);
  }

  out.bench_digest = rs.bench_digest;
  for (const auto& s : rs.sources) {
    out.inputs.push_back({{"file", s.file.string()},
                          {"kind", kind_format(s.kind)},
                          {"method", s.method},
                          {"level", s.level ? Json(level_name(*s.level)) : Json(nullptr)},
                          {"model_digest", s.model_digest},
                          {"sha256", s.file_digest}});
  }
  return out;
}

}  // namespace medforget::report
