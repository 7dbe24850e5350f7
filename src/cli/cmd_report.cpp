// `medforget report`: tables (Markdown, CSV), SVG figures and one HTML page
// from any set of eval / attack / mia outputs of one benchmark.
#include <cstdio>

#include "cli/commands.hpp"
#include "core/manifest.hpp"
#include "core/output.hpp"
#include "report/report.hpp"

namespace medforget::cli {

void register_report(CLI::App& app) {
  static std::vector<std::string> inputs;
  static std::string out;
  static bool force = false;
  static std::string regime;
  auto* cmd = app.add_subcommand("report", "Paper-style tables, figures and HTML from eval/attack/mia outputs");
  cmd->add_option("--out", out, "Report directory")->required();
  cmd->add_option("inputs", inputs, "Result files or directories (searched one level deep)")->required();
  cmd->add_option("--regime", regime,
                  "How the models were made, stated in every caption: scratch | pretrained (run and grid pass it)");
  cmd->add_flag("--force", force, "Replace a medforget directory of another kind at --out");
  cmd->callback([] {
    std::vector<std::filesystem::path> in(inputs.begin(), inputs.end());
    OutputLock lock = claim_output(out, {"report", "report", in, force});
    report::regime_sentence(regime);  // an unknown regime fails before anything is read
    auto r = report::write_report(in, out, regime);
    write_manifest(out, "report", {{"inputs", inputs}, {"regime", regime}}, r.inputs);
    std::printf("%s\n", r.summary_markdown.c_str());
    std::printf("report written to %s (%zu files; open %s/report.html)\n", out.c_str(), r.files.size(), out.c_str());
  });
}

}  // namespace medforget::cli
