#pragma once
// Free-text chest radiograph reports written from a study's findings in an
// institution's house style, the way radiologists write them:
//
//   EXAMINATION: CHEST (PA AND LAT)
//   INDICATION: 68-year-old woman. Follow-up effusion.
//   COMPARISON: Chest radiograph from 2016-04-23.
//   FINDINGS: Interval decrease in the right pleural effusion, now small, with
//   adjacent compressive atelectasis. No pneumothorax. Heart size is normal. ...
//   IMPRESSION:
//   1. Interval decrease in the right pleural effusion, now small.
//   2. No pneumothorax.
//
// Sections in report order: EXAMINATION, INDICATION, TECHNIQUE (optional),
// COMPARISON (optional), FINDINGS, IMPRESSION. Every header starts a line and
// is one report_parser.hpp recognises (EXAMINATION/EXAM, INDICATION/CLINICAL
// INDICATION/HISTORY/CLINICAL HISTORY, TECHNIQUE, COMPARISON, FINDINGS,
// IMPRESSION), upper or title case, with or without a colon; a style may put a
// "FINAL REPORT" banner line before the first header (parsed as PREAMBLE).
//
// Deterministic: the same findings, context, style and rng state give the same
// bytes. Finding conventions (severity words, detail strings): clinical_course.hpp.
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "data/findings.hpp"

namespace medforget {

class Rng;

struct ReportStyle {
  // Headers.
  std::string header_case = "upper";  // "upper" ("FINDINGS") | "title" ("Findings")
  bool header_colon = true;           // "FINDINGS:" vs "FINDINGS" (then always on its own line)
  bool header_inline = true;          // "FINDINGS: text" vs header alone on its line
  bool blank_line = true;             // blank line between sections
  bool banner = false;                // "FINAL REPORT" line before the first header
  std::string exam_header = "EXAMINATION";       // "EXAMINATION" | "EXAM"
  std::string indication_header = "INDICATION";  // "INDICATION" | "CLINICAL INDICATION" |
                                                 // "HISTORY" | "CLINICAL HISTORY"
  // Section contents.
  std::string exam_format = "raw";          // "raw" (CHEST (PA AND LAT)) | "prose" | "short"
  std::string indication_format = "plain";  // "plain" | "age_sex" | "mimic" | "short"
  std::string date_format = "iso";          // "iso" (2016-04-23) | "us" (04/23/2016)
  double technique_prob = 0.5;              // chance a report has a TECHNIQUE section
  double comparison_prob = 0.7;             // chance a report has a COMPARISON section
  bool impression_numbered = true;          // "1. ...\n2. ..." vs prose
  // Sentence habits.
  bool telegraphic = false;            // "Moderate right pleural effusion." vs "There is a ..."
  bool findings_one_per_line = false;  // one sentence per line in FINDINGS
  bool devices_first = true;           // lines and tubes before the lungs (else last)
  bool heart_first = false;            // heart/mediastinum before lungs and pleura
  bool negatives_combined = true;      // "No pleural effusion or pneumothorax." vs one each
  bool oxford_comma = false;           // "effusion, pneumothorax, or consolidation"
  double bones_prob = 0.6;             // chance of a statement on the osseous structures
  int wrap_width = 0;                  // hard-wrap lines at this width (0 = no wrapping)
  // Preferred phrasing: statement id -> indices into the variants of that
  // statement (report_phrase_ids() / report_phrase_variants()); a statement
  // missing here may use any variant.
  std::map<std::string, std::vector<int>> phrasing;

  static ReportStyle sample(Rng& rng);
  Json to_json() const;
  // Throws Error naming `context` and the field for a missing / invalid field
  // or a phrasing index out of range.
  static ReportStyle from_json(const Json& j, const std::string& context = "report_style");
};

struct StudyContext {
  std::string exam = "CHEST (PA AND LAT)";  // "CHEST (PA AND LAT)" | "CHEST (PORTABLE AP)" | other
  std::string indication;                   // "fever, cough"; "" writes "None." / "Not provided."
  std::string prior_date;                   // ISO date of the previous study, "" if none
  std::vector<Finding> prior_findings;      // findings of that study (change statements)
  int age = 0;                              // 0 = unknown
  std::string sex;                          // "M" | "F" | ""
};

// Canonical section names a report can hold, in report order.
const std::vector<std::string>& report_section_names();

// Writes one report. drop_sections names canonical sections (case-insensitive,
// from report_section_names()) to leave out, header and text; an unknown name
// is an Error.
std::string write_report(const std::vector<Finding>& findings, const StudyContext& ctx,
                         const ReportStyle& style, Rng& rng,
                         const std::vector<std::string>& drop_sections = {});

// The phrase bank behind ReportStyle::phrasing.
const std::vector<std::string>& report_phrase_ids();
// Variants (templates with {placeholders}) of one statement; Error on an unknown id.
const std::vector<std::string>& report_phrase_variants(const std::string& id);

}  // namespace medforget
