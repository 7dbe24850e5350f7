#pragma once
// The report stage: reads eval / attack / MIA summaries (files or run
// directories) and writes the paper's tables and figures as Markdown, CSV,
// SVG and one self-contained HTML page.
#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace medforget::report {

struct ReportOutputs {
  std::vector<std::filesystem::path> files;  // every file written, in writing order
  // Table 3, then the F/R Diff table (with the distance to Retrain), then, when
  // the run covers several levels, the F/R Diff and distance-to-Retrain pivots:
  // for the CLI to print.
  std::string summary_markdown;
  std::string bench_digest;
  // [{"file", "kind", "method", "level", "model_digest", "sha256"}]: for the stage manifest's
  // inputs.
  Json inputs = Json::array();
};

// Writes into out_dir (created if needed), each file atomically:
//   table3.md/.csv, fr_diff.md/.csv, fr_diff_by_level.md/.csv,
//   retrain_distance_by_level.md/.csv, generation.md/.csv,
//   fig5_gen_score.svg, fig5_class_acc.svg, fig5_cloze_acc.svg,
//   attack.md/.csv and fig6_leakage.svg   when any attack summary is given,
//   mia.md/.csv                           when any MIA summary is given,
//   report.html (last).
// Outputs of a kind not given this time are removed, so out_dir never mixes
// two runs. All inputs are validated before anything is written; errors are
// medforget::Error (see load_results).
// `regime` ("" when not known): how the models were made, stated in every
// table's caption ("scratch": trained from scratch on the benchmark;
// "pretrained": pretrained, then LoRA-fine-tuned on it), so a table copied
// elsewhere still says which regime it comes from.
ReportOutputs write_report(const std::vector<std::filesystem::path>& inputs,
                           const std::filesystem::path& out_dir, const std::string& regime = "");

// The sentence write_report adds to each caption for a regime; Error for an unknown regime.
std::string regime_sentence(const std::string& regime);

}  // namespace medforget::report
