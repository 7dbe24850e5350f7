#include "data/report_parser.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "core/error.hpp"

namespace medforget {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Collapses every whitespace run (including line breaks) to one space and trims.
std::string collapse(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  bool pending = false;
  for (char c : s) {
    if (is_space(c)) {
      pending = !out.empty();
    } else {
      if (pending) out += ' ';
      pending = false;
      out += c;
    }
  }
  return out;
}

// Banner lines ("FINAL REPORT") carry no content and end the current section.
bool is_banner(const std::string& trimmed) {
  static const char* kBanners[] = {"FINAL REPORT", "PRELIMINARY REPORT", "FINAL ADDENDUM",
                                   "RADIOLOGY REPORT"};
  std::string u = collapse(trimmed);
  for (const char* b : kBanners)
    if (u == b) return true;
  return false;
}

// "______", "-----", "=====", "*****": five or more of one rule character.
bool is_separator(const std::string& trimmed) {
  if (trimmed.size() < 5) return false;
  char c = trimmed[0];
  if (c != '_' && c != '-' && c != '=' && c != '*') return false;
  return std::all_of(trimmed.begin(), trimmed.end(), [c](char x) { return x == c; });
}

struct HeaderMatch {
  std::string canon;
  size_t end;  // index just past the header (and its colon)
};

// ALL-CAPS, or starting with a capital (Title case / sentence case).
bool header_case_ok(const std::string& s, size_t pos, size_t len) {
  bool any_lower = false;
  for (size_t i = pos; i < pos + len; ++i)
    if (std::islower(static_cast<unsigned char>(s[i]))) any_lower = true;
  if (!any_lower) return true;
  return std::isupper(static_cast<unsigned char>(s[pos])) != 0;
}

// A known header phrase at s[pos]. With a colon it may be followed by text on the
// same line; without one it must stand alone on the line (only if allow_bare).
std::optional<HeaderMatch> match_header_at(const std::string& s, size_t pos, bool allow_bare) {
  for (const auto& [phrase, canon] : header_synonyms()) {
    if (pos + phrase.size() > s.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < phrase.size() && eq; ++i) {
      char a = static_cast<char>(std::toupper(static_cast<unsigned char>(s[pos + i])));
      char b = phrase[i];
      // A space in the phrase matches one space or tab in the text.
      if (b == ' ')
        eq = (a == ' ' || a == '\t');
      else
        eq = (a == b);
    }
    if (!eq || !header_case_ok(s, pos, phrase.size())) continue;
    size_t j = pos + phrase.size();
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t')) ++j;
    if (j < s.size() && s[j] == ':') return HeaderMatch{canon, j + 1};
    if (j == s.size() && allow_bare) return HeaderMatch{canon, j};
    // No colon / not alone: try the next (shorter) phrase, e.g. EXAM after EXAMINATION.
  }
  return std::nullopt;
}

struct Piece {
  std::optional<std::string> header;  // set: a new section starts here
  std::string text;                   // body text following it (or continuing the current one)
};

// Splits one trimmed line into header starts and body text.
void scan_line(const std::string& line, std::vector<Piece>& out) {
  std::string rest = line;
  // Headers at the start of the line, possibly several ("FINDINGS: IMPRESSION: x").
  bool first = true;
  while (!rest.empty()) {
    auto m = match_header_at(rest, 0, /*allow_bare=*/first);
    if (!m) break;
    first = false;
    out.push_back({m->canon, ""});
    rest = trim(rest.substr(m->end));
  }
  if (rest.empty()) return;
  // Inline headers after a sentence end: "Comparison: None. FINDINGS: Clear."
  size_t start = 0;
  auto emit_text = [&](size_t from, size_t to) {
    std::string t = trim(rest.substr(from, to - from));
    if (t.empty()) return;
    if (!out.empty() && out.back().text.empty() && out.back().header)
      out.back().text = t;
    else
      out.push_back({std::nullopt, t});
  };
  for (size_t i = 0; i + 1 < rest.size(); ++i) {
    char c = rest[i];
    if ((c != '.' && c != '?' && c != '!') || !is_space(rest[i + 1])) continue;
    size_t j = i + 1;
    while (j < rest.size() && is_space(rest[j])) ++j;
    auto m = match_header_at(rest, j, /*allow_bare=*/false);
    if (!m) continue;
    emit_text(start, i + 1);
    out.push_back({m->canon, ""});
    start = m->end;
    i = m->end - 1;
  }
  emit_text(start, rest.size());
}

}  // namespace

const std::vector<std::string>& standard_sections() {
  static const std::vector<std::string> k = {"EXAMINATION", "INDICATION", "FINDINGS", "IMPRESSION"};
  return k;
}

const std::vector<std::pair<std::string, std::string>>& header_synonyms() {
  static const std::vector<std::pair<std::string, std::string>> table = [] {
    std::vector<std::pair<std::string, std::string>> t = {
        {"EXAMINATION", "EXAMINATION"},
        {"EXAMINATIONS", "EXAMINATION"},
        {"EXAM", "EXAMINATION"},
        {"TYPE OF EXAMINATION", "EXAMINATION"},
        {"INDICATION", "INDICATION"},
        {"INDICATIONS", "INDICATION"},
        {"CLINICAL INDICATION", "INDICATION"},
        {"CLINICAL INDICATIONS", "INDICATION"},
        {"HISTORY", "INDICATION"},
        {"CLINICAL HISTORY", "INDICATION"},
        {"CLINICAL INFORMATION", "INDICATION"},
        {"REASON FOR EXAM", "INDICATION"},
        {"REASON FOR EXAMINATION", "INDICATION"},
        {"REASON FOR THIS EXAMINATION", "INDICATION"},
        {"REASON FOR STUDY", "INDICATION"},
        {"UNDERLYING MEDICAL CONDITION", "INDICATION"},
        {"TECHNIQUE", "TECHNIQUE"},
        {"TECHNIQUES", "TECHNIQUE"},
        {"COMPARISON", "COMPARISON"},
        {"COMPARISONS", "COMPARISON"},
        {"COMPARISON STUDY", "COMPARISON"},
        {"COMPARISON STUDIES", "COMPARISON"},
        {"FINDINGS", "FINDINGS"},
        {"FINDING", "FINDINGS"},
        {"IMPRESSION", "IMPRESSION"},
        {"IMPRESSIONS", "IMPRESSION"},
        {"CONCLUSION", "IMPRESSION"},
        {"CONCLUSIONS", "IMPRESSION"},
        {"SUMMARY", "IMPRESSION"},
        {"NOTIFICATION", "NOTIFICATION"},
        {"NOTIFICATIONS", "NOTIFICATION"},
        {"RECOMMENDATION", "RECOMMENDATION"},
        {"RECOMMENDATIONS", "RECOMMENDATION"},
        {"RECOMMENDATION(S)", "RECOMMENDATION"},
        {"FINDINGS AND IMPRESSION", "FINDINGS AND IMPRESSION"},
        {"FINDINGS/IMPRESSION", "FINDINGS AND IMPRESSION"},
        {"ADDENDUM", "ADDENDUM"},
        {"WET READ", "WET READ"},
    };
    std::stable_sort(t.begin(), t.end(),
                     [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    return t;
  }();
  return table;
}

std::optional<std::string> canonical_section_name(const std::string& header) {
  std::string h = collapse(header);
  if (!h.empty() && h.back() == ':') h = trim(h.substr(0, h.size() - 1));
  h = upper(h);
  for (const auto& [phrase, canon] : header_synonyms())
    if (h == phrase) return canon;
  return std::nullopt;
}

bool ParsedReport::has(const std::string& name) const {
  return std::any_of(sections.begin(), sections.end(),
                     [&](const ReportSection& s) { return s.name == name; });
}

const std::string& ParsedReport::get(const std::string& name) const {
  for (const auto& s : sections)
    if (s.name == name) return s.text;
  std::string present;
  for (const auto& s : sections) present += (present.empty() ? "" : ", ") + s.name;
  fail(source + ": report has no " + name +
       " section (sections present: " + (present.empty() ? "none" : present) + ")");
}

std::vector<std::string> ParsedReport::missing_standard() const {
  std::vector<std::string> missing;
  for (const auto& name : standard_sections()) {
    auto it = std::find_if(sections.begin(), sections.end(),
                           [&](const ReportSection& s) { return s.name == name; });
    if (it == sections.end() || it->text.empty()) missing.push_back(name);
  }
  return missing;
}

bool ParsedReport::has_standard_four() const { return missing_standard().empty(); }

std::vector<std::string> ParsedReport::names() const {
  std::vector<std::string> n;
  for (const auto& s : sections) n.push_back(s.name);
  return n;
}

ParsedReport parse_report(const std::string& text, const std::string& source) {
  // Normalise line endings and drop a UTF-8 BOM.
  std::string t = text;
  if (t.size() >= 3 && static_cast<unsigned char>(t[0]) == 0xEF &&
      static_cast<unsigned char>(t[1]) == 0xBB && static_cast<unsigned char>(t[2]) == 0xBF)
    t.erase(0, 3);
  std::vector<std::string> lines;
  {
    std::string cur;
    for (size_t i = 0; i < t.size(); ++i) {
      char c = t[i];
      if (c == '\r') {
        if (i + 1 < t.size() && t[i + 1] == '\n') ++i;
        lines.push_back(cur);
        cur.clear();
      } else if (c == '\n') {
        lines.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    lines.push_back(cur);
  }

  ParsedReport r;
  r.source = source;
  std::vector<std::string> bodies;      // raw text per section, joined at the end
  std::map<std::string, size_t> index;  // canonical name -> position
  long current = -1;                    // section receiving text; -1: none (preamble)
  bool any_header = false;

  auto open = [&](const std::string& name) -> long {
    auto it = index.find(name);
    if (it != index.end()) return static_cast<long>(it->second);
    index[name] = r.sections.size();
    r.sections.push_back({name, ""});
    bodies.emplace_back();
    return static_cast<long>(r.sections.size() - 1);
  };
  auto append = [&](const std::string& s) {
    if (s.empty()) return;
    if (current < 0) current = open("PREAMBLE");
    bodies[static_cast<size_t>(current)] += ' ';
    bodies[static_cast<size_t>(current)] += s;
  };

  for (const auto& raw : lines) {
    std::string line = trim(raw);
    if (line.empty()) continue;
    if (is_banner(line)) {
      current = -1;
      continue;
    }
    if (is_separator(line)) {
      // An underline straight after a header ("FINDINGS\n--------") keeps it open.
      if (current >= 0 && !trim(bodies[static_cast<size_t>(current)]).empty()) current = -1;
      continue;
    }
    std::vector<Piece> pieces;
    scan_line(line, pieces);
    for (const auto& p : pieces) {
      if (p.header) {
        any_header = true;
        current = open(*p.header);
      }
      append(p.text);
    }
  }

  if (!any_header) {
    fail(source +
         ": no recognisable report section; expected section headers such as 'EXAMINATION:', "
         "'INDICATION:', 'FINDINGS:' or 'IMPRESSION:' at the start of a line");
  }
  for (size_t i = 0; i < r.sections.size(); ++i) r.sections[i].text = collapse(bodies[i]);
  return r;
}

std::string strip_own_header(const std::string& field, const std::string& section) {
  std::string t = trim(field);
  for (bool again = true; again;) {
    again = false;
    for (const auto& [phrase, canon] : header_synonyms()) {
      if (canon != section || t.size() < phrase.size()) continue;
      if (upper(collapse(t.substr(0, phrase.size()))) != phrase) continue;
      size_t j = phrase.size();
      // A whole word: "Findings:" strips, "FINDINGSX:" does not.
      while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
      if (j >= t.size() || t[j] != ':') continue;
      t = trim(t.substr(j + 1));
      again = true;  // "INDICATION: INDICATION: x"
      break;
    }
  }
  return t;
}

std::string format_report(const std::vector<ReportSection>& sections) {
  std::string out;
  for (const auto& s : sections) {
    if (s.name == "PREAMBLE") {
      out += s.text + "\n";
      continue;
    }
    out += s.name + ": " + s.text + "\n";
  }
  return out;
}

}  // namespace medforget
