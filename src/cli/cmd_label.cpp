#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "eval/chexpert_labeler_io.hpp"

namespace medforget::cli {

namespace {

struct LabelArgs {
  std::string in, out, id_field = "id", text_field = "text";
};

// The labels never replace the reports they come from.
void check_not_input(const std::filesystem::path& in, const std::filesystem::path& out) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool same = fs::exists(out, ec) ? fs::equivalent(in, out, ec)
                                  : fs::weakly_canonical(in, ec) == fs::weakly_canonical(out, ec);
  if (same) fail("label: --out " + out.string() + " is the input file; give another path");
}

}  // namespace

void register_label(CLI::App& app) {
  static LabelArgs a;
  auto* cmd = app.add_subcommand(
      "label", "Label your own reports with the offline CheXpert-style labeler (labels + evidence spans)");
  cmd->add_option("--in", a.in, "Reports: .csv with a header row, or .jsonl (one object per line)")->required();
  cmd->add_option("--out", a.out, "Labels: .jsonl (one line per report) or .csv (one row per finding)")->required();
  cmd->add_option("--id-field", a.id_field, "Column / field holding the report id")->capture_default_str();
  cmd->add_option("--text-field", a.text_field, "Column / field holding the report text")->capture_default_str();
  cmd->callback([] {
    label_file_format(a.out, "output");  // before any work
    check_not_input(a.in, a.out);
    std::vector<ReportToLabel> reports = read_reports_to_label(a.in, a.id_field, a.text_field);
    std::vector<LabelledReport> labelled;
    labelled.reserve(reports.size());
    size_t with_findings = 0, findings = 0;
    Progress bar("label", reports.size());
    for (const auto& r : reports) {
      labelled.push_back(label_one(r));
      with_findings += !labelled.back().findings.empty();
      findings += labelled.back().findings.size();
      bar.tick();
    }
    bar.done();
    write_labels(a.out, labelled);
    std::printf("labelled %zu reports from %s (%zu with a finding mentioned, %zu labels): %s\n", reports.size(),
                a.in.c_str(), with_findings, findings, a.out.c_str());
  });
}

}  // namespace medforget::cli
