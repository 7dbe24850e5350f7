#pragma once
// A table of pre-formatted cells with optional column groups (the paper's
// "Forget Set ↓ / Retain Set ↑" header row), rendered as Markdown or CSV. The
// HTML rendering is in report/html.hpp.
#include <optional>
#include <string>
#include <vector>

namespace medforget::report {

struct Cell {
  std::string text;      // Markdown / HTML
  std::string csv;       // CSV: machine-readable (method key, "" for missing)
  bool numeric = false;  // right-aligned
  bool missing = false;
  bool strong = false;   // the best of its column: bold in Markdown and HTML
};

struct Column {
  std::string key;    // CSV header
  std::string title;  // Markdown / HTML header
  std::string group;  // "" or the spanning header above it
  bool csv_only = false;
};

struct Table {
  std::string name;     // file stem: "table3"
  std::string title;    // "Table 3. Generation and reasoning ..."
  std::string caption;  // one or two sentences on how to read it
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;  // each row has columns.size() cells
};

inline constexpr const char* kMissingText = "–";  // en dash, as in the paper
inline constexpr const char* kNoLevelText = "—";  // em dash: vanilla has no level

// Fixed-point with `decimals` digits; never "-0.00". Deterministic: C locale.
std::string format_fixed(double v, int decimals);
// `digits` significant digits (%g), for p-values spanning many magnitudes.
std::string format_sig(double v, int digits);

Cell number_cell(std::optional<double> v, int decimals, double scale = 1.0);
Cell count_cell(std::optional<int64_t> v);
Cell text_cell(const std::string& text, const std::string& csv);

// "### title", the caption, then a pipe table padded to aligned columns.
std::string to_markdown(const Table& t);
// RFC 4180: a header of column keys; fields quoted when they hold , " CR or LF.
std::string to_csv(const Table& t);
std::string csv_field(const std::string& s);

}  // namespace medforget::report
