#include "report/html.hpp"

#include "report/svg.hpp"

namespace medforget::report {

namespace {

const char* kCss =
    R"(body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; margin: 24px 32px; color: #222; background: #fff; }
h1 { font-size: 24px; margin-bottom: 4px; }
h2 { font-size: 18px; margin: 32px 0 6px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
p.caption { margin: 4px 0 10px; color: #444; max-width: 72em; font-size: 14px; }
p.files, p.meta { font-size: 12px; color: #666; margin: 4px 0; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
nav ul { columns: 2; font-size: 14px; }
div.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; }
th { background: #f0f0f0; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.missing { color: #999; text-align: center; }
tbody tr:nth-child(even) td { background: #fafafa; }
figure { margin: 0; }
svg { max-width: 100%; height: auto; }
)";

std::string esc(const std::string& s) { return xml_escape(s); }

}  // namespace

std::string table_to_html(const Table& t) {
  std::vector<size_t> cols;
  bool grouped = false;
  for (size_t c = 0; c < t.columns.size(); ++c) {
    if (t.columns[c].csv_only) continue;
    cols.push_back(c);
    grouped = grouped || !t.columns[c].group.empty();
  }
  std::string out = "<table class=\"results\" id=\"" + esc(t.name) + "-table\">\n<thead>\n<tr>";
  // Grouped columns share one spanning header; ungrouped ones span both header rows.
  for (size_t i = 0; i < cols.size();) {
    const Column& col = t.columns[cols[i]];
    if (col.group.empty()) {
      out += grouped ? "<th rowspan=\"2\">" : "<th>";
      out += esc(col.title) + "</th>";
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cols.size() && t.columns[cols[j]].group == col.group) ++j;
    out += "<th colspan=\"" + std::to_string(j - i) + "\">" + esc(col.group) + "</th>";
    i = j;
  }
  out += "</tr>\n";
  if (grouped) {
    out += "<tr>";
    for (size_t c : cols)
      if (!t.columns[c].group.empty()) out += "<th>" + esc(t.columns[c].title) + "</th>";
    out += "</tr>\n";
  }
  out += "</thead>\n<tbody>\n";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (size_t c : cols) {
      const Cell& cell = row.at(c);
      std::string cls = cell.missing ? " class=\"missing\"" : cell.numeric ? " class=\"num\"" : "";
      out += "<td" + cls + ">" + (cell.strong ? "<strong>" + esc(cell.text) + "</strong>" : esc(cell.text)) + "</td>";
    }
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
  return out;
}

HtmlItem table_item(const Table& t, const std::vector<std::string>& files) {
  return {t.name, t.title, t.caption, "<div class=\"scroll\">\n" + table_to_html(t) + "</div>\n",
          files};
}

std::string render_html(const ResultSet& rs, const std::vector<HtmlItem>& items) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n";
  out += "<title>MedForget unlearning report</title>\n<style>\n" + std::string(kCss) +
         "</style>\n</head>\n<body>\n";
  out += "<h1>MedForget unlearning report</h1>\n";
  out += "<p class=\"meta\">Benchmark digest <code>" + esc(rs.bench_digest) + "</code> · " +
         std::to_string(rs.entries.size()) + " models (method × level) · " +
         std::to_string(rs.sources.size()) + " input files</p>\n";
  out += "<nav>\n<ul>\n";
  for (const auto& it : items)
    out += "<li><a href=\"#" + esc(it.id) + "\">" + esc(it.heading) + "</a></li>\n";
  out += "<li><a href=\"#inputs\">Input files</a></li>\n</ul>\n</nav>\n";
  for (const auto& it : items) {
    out += "<section id=\"" + esc(it.id) + "\">\n<h2>" + esc(it.heading) + "</h2>\n";
    if (!it.caption.empty()) out += "<p class=\"caption\">" + esc(it.caption) + "</p>\n";
    out += "<figure>\n" + it.body + "</figure>\n";
    if (!it.files.empty()) {
      std::string names;
      for (const auto& f : it.files)
        names += (names.empty() ? "" : ", ") + ("<code>" + esc(f) + "</code>");
      out += "<p class=\"files\">Also written as " + names + ".</p>\n";
    }
    out += "</section>\n";
  }
  out += "<section id=\"inputs\">\n<h2>Input files</h2>\n";
  out +=
      "<p class=\"caption\">Every summary the report was built from, with the digest of the model "
      "it "
      "describes and of the file itself (SHA-256).</p>\n";
  out +=
      "<div class=\"scroll\">\n<table "
      "class=\"inputs\">\n<thead>\n<tr><th>File</th><th>Kind</th><th>Method</th>"
      "<th>Level</th><th>Model digest</th><th>File SHA-256</th></tr>\n</thead>\n<tbody>\n";
  for (const auto& s : rs.sources) {
    out += "<tr><td><code>" + esc(s.file.string()) + "</code></td><td>" + esc(kind_format(s.kind)) +
           "</td><td>" + esc(s.method) + "</td><td>" +
           esc(s.level ? level_name(*s.level) : std::string(kNoLevelText)) + "</td><td><code>" +
           esc(s.model_digest) + "</code></td><td><code>" + esc(s.file_digest) +
           "</code></td></tr>\n";
  }
  out += "</tbody>\n</table>\n</div>\n</section>\n</body>\n</html>\n";
  return out;
}

}  // namespace medforget::report
