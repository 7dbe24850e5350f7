#pragma once
// RFC 4180 CSV reader: quoted fields, embedded commas, doubled quotes, line
// breaks inside quotes, CRLF or LF line ends, an optional UTF-8 BOM. Errors name
// the file and the (1-based, physical) line where the offending record starts.
#include <filesystem>
#include <string>
#include <vector>

namespace medforget {

struct CsvRow {
  long line = 0;  // physical line where the record starts (the header is line 1)
  std::vector<std::string> fields;
};

struct CsvTable {
  std::string file;                 // for messages
  std::vector<std::string> header;  // column names, surrounding whitespace trimmed
  std::vector<CsvRow> rows;

  // Column index by name (case-insensitive), -1 when absent.
  int column(const std::string& name) const;
  bool has_column(const std::string& name) const { return column(name) >= 0; }
  // Throws Error naming the file and every missing column, plus the header found.
  void require_columns(const std::vector<std::string>& names) const;
  // Field of `row` in column `name` (Error if the column does not exist).
  const std::string& at(const CsvRow& row, const std::string& name) const;
};

// Parses CSV text. Completely empty lines between records are skipped; every
// other record must have exactly as many fields as the header.
CsvTable parse_csv(const std::string& text, const std::string& source);
CsvTable read_csv(const std::filesystem::path& p);

// One CSV record with "\n": a field holding a comma, a quote, a line break or
// leading/trailing space is quoted, its quotes doubled, so parse_csv reads back
// the same fields (a "\r\n" inside a field reads back as "\n").
std::string csv_line(const std::vector<std::string>& fields);

}  // namespace medforget
