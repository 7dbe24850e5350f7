#pragma once
// Splits a free-text radiology report (MIMIC-CXR, IU X-ray, the synthetic
// generator's house styles, hand-written reports) into canonical sections.
//
// Canonical names: EXAMINATION, INDICATION, TECHNIQUE, COMPARISON, FINDINGS,
// IMPRESSION, NOTIFICATION, RECOMMENDATION, ADDENDUM, WET READ, FINDINGS AND
// IMPRESSION (a combined section; not split), and PREAMBLE
// for un-headed text before the first header. Header synonyms (HISTORY,
// CLINICAL HISTORY, REASON FOR EXAM, CONCLUSION, SUMMARY, ...) map onto these;
// the full table is header_synonyms(). docs/IMPORTERS.md describes the rules.
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace medforget {

struct ReportSection {
  std::string name;  // canonical, upper case: "FINDINGS"
  std::string text;  // body with lines joined and whitespace collapsed; may be ""
};

struct ParsedReport {
  std::string source;                   // file / uid the text came from (for messages)
  std::vector<ReportSection> sections;  // in order of first appearance

  bool has(const std::string& name) const;
  // Throws Error naming the source, the section and the sections present.
  const std::string& get(const std::string& name) const;
  // EXAMINATION, INDICATION, FINDINGS and IMPRESSION all present and non-empty.
  bool has_standard_four() const;
  // Which of the standard four are absent or empty, in that order.
  std::vector<std::string> missing_standard() const;
  std::vector<std::string> names() const;
};

// The four sections every MedForget study must have, in report order.
const std::vector<std::string>& standard_sections();

// (header phrase in upper case, canonical name), longest phrase first.
const std::vector<std::pair<std::string, std::string>>& header_synonyms();

// Canonical name for a header phrase ("Clinical History" -> "INDICATION"),
// case-insensitive, surrounding whitespace and a trailing colon ignored.
std::optional<std::string> canonical_section_name(const std::string& header);

// Throws Error naming `source` when no section header is recognised.
ParsedReport parse_report(const std::string& text, const std::string& source);

// `field` (the text of one report field, e.g. a CSV column holding the
// indication) without leading headers that name that same section, matched
// case-insensitively with their colon: ("INDICATION: Cough.", "INDICATION") ->
// "Cough."; ("History: Cough.", "INDICATION") -> "Cough.". A header of another
// section ("IMPRESSION: ..." in the findings field) is left in place.
std::string strip_own_header(const std::string& field, const std::string& section);

// "NAME: text\n" per section in the given order (the canonical layout the
// importers write); re-parses to the same sections.
std::string format_report(const std::vector<ReportSection>& sections);

}  // namespace medforget
