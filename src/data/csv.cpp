#include "data/csv.hpp"

#include <cctype>

#include "core/error.hpp"
#include "core/fs.hpp"

namespace medforget {

namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

bool iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// A character right after a closing quote. When the quoted field ran over
// line breaks, the quote that "closed" it most likely opened the next field: the
// real fault is a quote left open on open_line, so that is the line named.
[[noreturn]] void stray_after_quote(const std::string& source, long open_line, long line, char c) {
  const std::string ch = "'" + std::string(1, c) + "'";
  if (line != open_line)
    fail(where(source, open_line) + ": unterminated quoted field (the quote opened on line " +
         std::to_string(open_line) + " runs to line " + std::to_string(line) + ", where " + ch +
         " follows a quote; a quote inside a quoted field must be doubled)");
  fail(where(source, line) + ": unexpected character " + ch +
       " after a closing quote (expected ',' or end of line)");
}

}  // namespace

int CsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (iequals(header[i], name)) return static_cast<int>(i);
  return -1;
}

void CsvTable::require_columns(const std::vector<std::string>& names) const {
  std::string missing;
  for (const auto& n : names)
    if (!has_column(n)) missing += (missing.empty() ? "'" : ", '") + n + "'";
  if (missing.empty()) return;
  std::string found;
  for (const auto& h : header) found += (found.empty() ? "" : ",") + h;
  fail(where(file, 1) + ": missing required column(s) " + missing + " (header is: " + found + ")");
}

const std::string& CsvTable::at(const CsvRow& row, const std::string& name) const {
  int c = column(name);
  if (c < 0) fail(where(file, row.line, name) + ": no such column");
  if (static_cast<size_t>(c) >= row.fields.size())
    fail(where(file, row.line, name) + ": record has only " + std::to_string(row.fields.size()) +
         " fields");
  return row.fields[static_cast<size_t>(c)];
}

CsvTable parse_csv(const std::string& text, const std::string& source) {
  CsvTable t;
  t.file = source;
  size_t i = 0, n = text.size();
  if (n >= 3 && static_cast<unsigned char>(text[0]) == 0xEF &&
      static_cast<unsigned char>(text[1]) == 0xBB && static_cast<unsigned char>(text[2]) == 0xBF)
    i = 3;
  long line = 1;
  bool have_header = false;

  // Consumes a line break at text[i] ("\n", "\r\n" or "\r"); returns false if none.
  auto eat_newline = [&]() -> bool {
    if (i >= n) return false;
    if (text[i] == '\r') {
      ++i;
      if (i < n && text[i] == '\n') ++i;
      ++line;
      return true;
    }
    if (text[i] == '\n') {
      ++i;
      ++line;
      return true;
    }
    return false;
  };

  while (i < n) {
    if (eat_newline()) continue;  // empty line between records
    CsvRow row;
    row.line = line;
    bool end_of_record = false;
    while (!end_of_record) {
      std::string field;
      if (i < n && text[i] == '"') {
        long open_line = line;
        ++i;
        bool closed = false;
        while (i < n) {
          char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
            } else {
              ++i;
              closed = true;
              break;
            }
          } else if (c == '\r' || c == '\n') {
            // Keep line breaks inside quotes as "\n", counting physical lines.
            eat_newline();
            field += '\n';
          } else {
            field += c;
            ++i;
          }
        }
        if (!closed)
          fail(where(source, open_line) +
               ": unterminated quoted field (the opening quote on line " +
               std::to_string(open_line) + " is never closed)");
        if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          stray_after_quote(source, open_line, line, text[i]);
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') field += text[i++];
      }
      row.fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;
      } else {
        eat_newline();
        end_of_record = true;
      }
    }
    if (!have_header) {
      for (auto& h : row.fields) t.header.push_back(trim(h));
      have_header = true;
      continue;
    }
    if (row.fields.size() != t.header.size())
      fail(where(source, row.line) + ": expected " + std::to_string(t.header.size()) +
           " fields (as in the header), found " + std::to_string(row.fields.size()));
    t.rows.push_back(std::move(row));
  }
  if (!have_header) fail(where(source) + ": empty CSV file (expected a header row)");
  return t;
}

CsvTable read_csv(const std::filesystem::path& p) { return parse_csv(read_text(p), p.string()); }

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t k = 0; k < fields.size(); ++k) {
    const std::string& f = fields[k];
    if (k > 0) out += ',';
    bool quote = f.find_first_of(",\"\r\n") != std::string::npos ||
                 (!f.empty() && (std::isspace(static_cast<unsigned char>(f.front())) ||
                                 std::isspace(static_cast<unsigned char>(f.back()))));
    if (!quote) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  // A record of one empty field would read back as an empty line (skipped).
  if (fields.size() == 1 && fields[0].empty()) out = "\"\"";
  return out + "\n";
}

}  // namespace medforget
