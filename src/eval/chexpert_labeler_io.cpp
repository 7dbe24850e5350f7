#include "eval/chexpert_labeler_io.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/csv.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<ReportToLabel> read_csv_reports(const fs::path& p, const std::string& id_field,
                                            const std::string& text_field) {
  CsvTable t = read_csv(p);
  t.require_columns({id_field, text_field});
  std::vector<ReportToLabel> out;
  for (const auto& row : t.rows)
    out.push_back({t.at(row, id_field), t.at(row, text_field), row.line});
  return out;
}

// A JSONL id may be written as a number: 17 and "17" are the same report.
std::string json_id(const Json& j, const std::string& field, const JsonCtx& ctx) {
  auto it = j.find(field);
  if (it == j.end()) fail(where(ctx.file, ctx.line, field) + ": missing (the report id)");
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  fail(where(ctx.file, ctx.line, field) + ": expected a string or an integer id, got " +
       it->dump());
}

std::vector<ReportToLabel> read_jsonl_reports(const fs::path& p, const std::string& id_field,
                                              const std::string& text_field) {
  std::vector<ReportToLabel> out;
  for_each_jsonl(p, [&](const Json& j, long line) {
    JsonCtx ctx{p.string(), line};
    std::string id = json_id(j, id_field, ctx);
    auto it = j.find(text_field);
    if (it == j.end()) fail(where(ctx.file, line, text_field) + ": missing (the report text)");
    if (!it->is_string())
      fail(where(ctx.file, line, text_field) + ": expected the report text as a string, got " +
           it->dump());
    out.push_back({std::move(id), it->get<std::string>(), line});
  });
  return out;
}

}  // namespace

std::string label_file_format(const fs::path& p, const std::string& role) {
  std::string ext = lower(p.extension().string());
  if (ext == ".csv") return "csv";
  if (ext == ".jsonl" || ext == ".ndjson") return "jsonl";
  fail(p.string() + ": cannot tell the " + role + " format from the extension '" + ext +
       "' (expected .csv, .jsonl or .ndjson)");
}

std::vector<ReportToLabel> read_reports_to_label(const fs::path& p, const std::string& id_field,
                                                 const std::string& text_field) {
  if (id_field.empty() || text_field.empty())
    fail(p.string() + ": the id and text field names must not be empty");
  std::vector<ReportToLabel> rows = label_file_format(p, "input") == "csv"
                                        ? read_csv_reports(p, id_field, text_field)
                                        : read_jsonl_reports(p, id_field, text_field);
  std::map<std::string, long> first;
  for (const auto& r : rows) {
    if (r.id.empty()) fail(where(p.string(), r.line, id_field) + ": empty report id");
    auto [it, fresh] = first.emplace(r.id, r.line);
    if (!fresh)
      fail(where(p.string(), r.line, id_field) + ": duplicate report id '" + r.id +
           "' (first on line " + std::to_string(it->second) + ")");
  }
  return rows;
}

LabelledReport label_one(const ReportToLabel& r) { return {r.id, label_evidence(r.text)}; }

Json labelled_to_json(const LabelledReport& r) {
  Json findings = Json::array();
  for (const auto& f : r.findings)
    findings.push_back({{"finding", observation_key(f.obs)},
                        {"label", mention_label_name(f.label)},
                        {"begin", f.begin},
                        {"end", f.end},
                        {"evidence", f.text}});
  return {{"id", r.id}, {"findings", findings}};
}

void write_labels(const fs::path& p, const std::vector<LabelledReport>& rows) {
  if (label_file_format(p, "output") == "jsonl") {
    std::vector<Json> lines;
    lines.reserve(rows.size());
    for (const auto& r : rows) lines.push_back(labelled_to_json(r));
    write_jsonl(p, lines);
    return;
  }
  std::string out = csv_line({"id", "finding", "label", "begin", "end", "evidence"});
  for (const auto& r : rows) {
    if (r.findings.empty()) out += csv_line({r.id, "", "", "", "", ""});
    for (const auto& f : r.findings)
      out += csv_line({r.id, observation_key(f.obs), mention_label_name(f.label),
                       std::to_string(f.begin), std::to_string(f.end), f.text});
  }
  write_atomic(p, out);
}

}  // namespace medforget
