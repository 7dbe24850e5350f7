// Report writer: turns one study's findings into a free-text report in a house
// style. Phrase bank: report_phrases.cpp; style sampling / JSON: report_style.cpp.
#include "data/report_writer.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "data/clinical_course.hpp"
#include "data/report_writer_impl.hpp"

namespace medforget {
namespace report_detail {

std::string Writer::exam_text() {
  ExamKind k = exam_kind(ctx_.exam);
  if (st_.exam_format == "prose" && k != ExamKind::Other)
    return sentence(k == ExamKind::PaLat ? "exam_prose_pa_lat" : "exam_prose_portable");
  if (st_.exam_format == "short" && k != ExamKind::Other)
    return k == ExamKind::PaLat ? "CXR PA/LAT" : "CXR PORTABLE AP";
  return ctx_.exam;
}

std::string Writer::indication_text() {
  if (ctx_.indication.empty()) return sentence("indication_none");
  std::string ind = ctx_.indication;
  auto with_period = [](std::string s) {
    if (!s.empty() && !contains(".?!", std::string(1, s.back()))) s += ".";
    return s;
  };
  bool known = ctx_.age > 0 && (ctx_.sex == "M" || ctx_.sex == "F");
  std::string who = ctx_.sex == "M" ? "man" : "woman";
  std::string age = std::to_string(ctx_.age);
  if (known && st_.indication_format == "age_sex")
    return age + "-year-old " + who + ". " + with_period(capitalize(ind));
  if (known && st_.indication_format == "mimic") return age + " year old " + who + " // " + ind;
  if (known && st_.indication_format == "short") return age + ctx_.sex + ", " + with_period(ind);
  return with_period(capitalize(ind));
}

std::string Writer::technique_text() {
  switch (exam_kind(ctx_.exam)) {
    case ExamKind::PaLat:
      return sentence("technique_pa_lat");
    case ExamKind::Portable:
      return sentence("technique_portable");
    default:
      return sentence("technique_other", {{"exam", ctx_.exam}});
  }
}

std::string Writer::comparison_text() {
  if (!has_prior_) return sentence("comparison_none");
  return sentence("comparison_prior", {{"date", format_date(ctx_.prior_date)}});
}

std::string Writer::write(const std::vector<std::string>& drop) {
  // Everything is drawn in a fixed order whatever is dropped, so a dropped
  // section leaves the others byte-identical.
  bool technique = rng_.chance(st_.technique_prob);
  bool comparison = rng_.chance(st_.comparison_prob);
  std::vector<std::pair<std::string, std::string>> sections;
  sections.emplace_back("EXAMINATION", exam_text());
  sections.emplace_back("INDICATION", indication_text());
  std::string tech = technique_text(), comp = comparison_text();
  if (technique) sections.emplace_back("TECHNIQUE", tech);
  if (comparison) sections.emplace_back("COMPARISON", comp);
  auto groups = build_groups();
  sections.emplace_back("FINDINGS", findings_text(groups));
  sections.emplace_back("IMPRESSION", impression_text(groups));

  std::vector<std::string> blocks;
  if (st_.banner) blocks.push_back("FINAL REPORT");
  for (const auto& [name, body] : sections) {
    if (std::find(drop.begin(), drop.end(), name) != drop.end()) continue;
    std::string label = name == "EXAMINATION"  ? st_.exam_header
                        : name == "INDICATION" ? st_.indication_header
                                               : name;
    if (st_.header_case == "title") label = title_case(label);
    bool multiline = contains(body, "\n");
    std::string block = (st_.header_inline && !multiline)
                            ? label + ": " + body
                            : label + (st_.header_colon ? ":" : "") + "\n" + body;
    blocks.push_back(wrap(block, st_.wrap_width));
  }
  std::string out;
  for (const auto& b : blocks) out += (out.empty() ? "" : (st_.blank_line ? "\n\n" : "\n")) + b;
  return out + "\n";
}

}  // namespace report_detail

const std::vector<std::string>& report_section_names() {
  static const std::vector<std::string> n{"EXAMINATION", "INDICATION", "TECHNIQUE",
                                          "COMPARISON",  "FINDINGS",   "IMPRESSION"};
  return n;
}

std::string write_report(const std::vector<Finding>& findings, const StudyContext& ctx,
                         const ReportStyle& style, Rng& rng,
                         const std::vector<std::string>& drop_sections) {
  std::vector<std::string> drop;
  for (const auto& d : drop_sections) {
    std::string u = report_detail::upper(d);
    const auto& names = report_section_names();
    if (std::find(names.begin(), names.end(), u) == names.end()) {
      std::string valid;
      for (const auto& n : names) valid += (valid.empty() ? "" : ", ") + n;
      fail("write_report: drop_sections: unknown section '" + d + "'; expected one of: " + valid);
    }
    drop.push_back(u);
  }
  report_detail::Writer w(findings, ctx, style, rng);
  return w.write(drop);
}

}  // namespace medforget