#include "report/table.hpp"

#include <cmath>
#include <cstdio>

#include "core/error.hpp"

namespace medforget::report {

std::string format_fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  // A tiny negative rounds to "-0.00", which reads as a sign that isn't there.
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string format_sig(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

Cell number_cell(std::optional<double> v, int decimals, double scale) {
  if (!v) return {kMissingText, "", true, true};
  std::string s = format_fixed(*v * scale, decimals);
  return {s, s, true, false};
}

Cell count_cell(std::optional<int64_t> v) {
  if (!v) return {kMissingText, "", true, true};
  return {std::to_string(*v), std::to_string(*v), true, false};
}

Cell text_cell(const std::string& text, const std::string& csv) {
  return {text, csv, false, false};
}

// Terminal width of UTF-8 text: one per code point is right for the dashes
// and arrows the tables use.
static size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

static std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

static void check_shape(const Table& t) {
  for (size_t r = 0; r < t.rows.size(); ++r)
    if (t.rows[r].size() != t.columns.size())
      fail("report: table " + t.name + " row " + std::to_string(r) + " has " +
           std::to_string(t.rows[r].size()) + " cells, expected " +
           std::to_string(t.columns.size()));
}

std::string to_markdown(const Table& t) {
  check_shape(t);
  std::vector<size_t> cols;
  for (size_t c = 0; c < t.columns.size(); ++c)
    if (!t.columns[c].csv_only) cols.push_back(c);
  std::vector<std::string> header;
  std::vector<bool> numeric;
  for (size_t c : cols) {
    const Column& col = t.columns[c];
    header.push_back(md_escape(col.group.empty() ? col.title : col.group + " " + col.title));
    bool num = !t.rows.empty();
    for (const auto& row : t.rows) num = num && row[c].numeric;
    numeric.push_back(num);
  }
  std::vector<std::vector<std::string>> body;
  for (const auto& row : t.rows) {
    body.emplace_back();
    for (size_t c : cols) body.back().push_back(row[c].strong ? "**" + md_escape(row[c].text) + "**" : md_escape(row[c].text));
  }
  std::vector<size_t> width(cols.size(), 3);
  for (size_t i = 0; i < cols.size(); ++i) {
    width[i] = std::max(width[i], display_width(header[i]));
    for (const auto& r : body) width[i] = std::max(width[i], display_width(r[i]));
  }
  auto pad = [&](const std::string& s, size_t i) {
    std::string fill(width[i] - display_width(s), ' ');
    return numeric[i] ? fill + s : s + fill;
  };
  std::string out = "### " + t.title + "\n\n";
  if (!t.caption.empty()) out += t.caption + "\n\n";
  auto line = [&](const std::vector<std::string>& cells) {
    std::string l = "|";
    for (size_t i = 0; i < cells.size(); ++i) l.append(" ").append(pad(cells[i], i)).append(" |");
    return l.append("\n");
  };
  out += line(header);
  std::string rule = "|";
  for (size_t i = 0; i < cols.size(); ++i)
    rule.append(" ")
        .append(numeric[i] ? std::string(width[i] - 1, '-') + ":" : std::string(width[i], '-'))
        .append(" |");
  out.append(rule).append("\n");
  for (const auto& r : body) out += line(r);
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string to_csv(const Table& t) {
  check_shape(t);
  std::string out;
  for (size_t c = 0; c < t.columns.size(); ++c)
    out.append(c ? "," : "").append(csv_field(t.columns[c].key));
  out += "\n";
  for (const auto& row : t.rows) {
    for (size_t c = 0; c < row.size(); ++c) out.append(c ? "," : "").append(csv_field(row[c].csv));
    out += "\n";
  }
  return out;
}

}  // namespace medforget::report
