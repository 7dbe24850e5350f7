#pragma once
// Labelling a hospital's own reports with the CheXpert-style labeler
// (`medforget label`): reports in from CSV or JSONL, labels with their evidence
// out as JSONL or CSV, so the labeler can be checked against the hospital's
// own labels before its factuality scores are trusted. docs/METRICS.md.
#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "eval/chexpert_labeler.hpp"

namespace medforget {

// The file format of a path, from its extension: "csv" (.csv) or "jsonl"
// (.jsonl, .ndjson). Throws Error naming the path and `role` ("input",
// "output") for any other extension.
std::string label_file_format(const std::filesystem::path& p, const std::string& role);

struct ReportToLabel {
  std::string id;
  std::string text;
  long line = 0;  // where the record starts in its file
};

// Reads (id, text) records. CSV: a header row naming the columns (matched
// case-insensitively); JSONL: one object per line, the id a string or an
// integer, the text a string. Errors name the file, the line and the field: a
// missing column or field, a wrong type, an empty or duplicate id. An empty
// text is a record (it gets no labels).
std::vector<ReportToLabel> read_reports_to_label(const std::filesystem::path& p,
                                                 const std::string& id_field,
                                                 const std::string& text_field);

struct LabelledReport {
  std::string id;
  std::vector<FindingEvidence> findings;  // label_evidence(text)
};

LabelledReport label_one(const ReportToLabel& r);

// {"id": ..., "findings": [{"finding": "pleural_effusion", "label": "negative",
//  "begin": 0, "end": 19, "evidence": "No pleural effusion"}, ...]}
Json labelled_to_json(const LabelledReport& r);

// Writes the labels atomically, in the format of the path's extension: JSONL
// (one line per report, labelled_to_json), or CSV with the columns
// id,finding,label,begin,end,evidence, one row per finding (a report with no
// finding mentioned has one row with the other columns empty).
void write_labels(const std::filesystem::path& p, const std::vector<LabelledReport>& rows);

}  // namespace medforget
