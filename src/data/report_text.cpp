// Text helpers of the report writer: case, tidying, articles, agreement,
// laterality + zone phrases, severity ranks, hard wrapping.
#include <algorithm>
#include <cctype>

#include "data/report_writer_impl.hpp"

namespace medforget {
namespace report_detail {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
bool contains(const std::string& s, const std::string& t) { return s.find(t) != std::string::npos; }

std::string capitalize(std::string s) {
  for (auto& c : s)
    if (std::isalpha(static_cast<unsigned char>(c))) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      break;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      break;
    }
  return s;
}

std::string title_case(const std::string& s) {
  std::string o = lower(s);
  bool start = true;
  for (auto& c : o) {
    if (start && std::isalpha(static_cast<unsigned char>(c)))
      c = static_cast<char>(std::toupper(c));
    start = (c == ' ');
  }
  return o;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

// Collapses runs of spaces, trims, and removes spaces before punctuation.
std::string tidy(std::string s) {
  std::string o;
  for (char c : s) {
    if (c == ' ' && (o.empty() || o.back() == ' ')) continue;
    if ((c == ',' || c == '.' || c == ';') && !o.empty() && o.back() == ' ') o.pop_back();
    o += c;
  }
  while (!o.empty() && o.back() == ' ') o.pop_back();
  replace_all(o, "bilateral-sided", "bilateral");
  replace_all(o, "bilateral costophrenic angle ", "bilateral costophrenic angles ");
  replace_all(o, "-sided-sided", "-sided");
  return o;
}

// Verb agreement for a sentence whose subject is a plural noun phrase.
std::string pluralize(std::string s) {
  static const std::vector<std::pair<std::string, std::string>> r{
      {"There is ", "There are "},           {"Again seen is ", "Again seen are "},
      {" is present", " are present"},       {" is seen", " are seen"},
      {" is noted", " are noted"},           {" is new ", " are new "},
      {" is unchanged", " are unchanged"},   {" has increased", " have increased"},
      {" has decreased", " have decreased"}, {" has resolved", " have resolved"},
      {" is no longer", " are no longer"},   {" is persistent", " are persistent"}};
  for (const auto& [a, b] : r) replace_all(s, a, b);
  return s;
}

std::string article(const std::string& np) {
  if (np.empty()) return np;
  std::string l = lower(np);
  bool an = contains("aeiou", std::string(1, l[0])) || l.rfind("8", 0) == 0 ||
            l.rfind("11 ", 0) == 0 || l.rfind("18 ", 0) == 0 || l.rfind("ng ", 0) == 0;
  return (an ? "an " : "a ") + np;
}

int severity_rank(const std::string& s) {
  if (s == "trace" || s == "minimal") return 0;
  if (s == "mild" || s == "small") return 1;
  if (s == "moderate") return 2;
  if (s == "large" || s == "severe") return 3;
  return -1;
}

// Findings that change "in size" (others worsen / improve).
bool sized(Observation o) {
  return o == Observation::PleuralEffusion || o == Observation::Pneumothorax ||
         o == Observation::LungLesion;
}

bool is_acute(Observation o) {
  switch (o) {
    case Observation::LungOpacity:
    case Observation::Edema:
    case Observation::Consolidation:
    case Observation::Pneumonia:
    case Observation::Atelectasis:
    case Observation::Pneumothorax:
    case Observation::PleuralEffusion:
      return true;
    default:
      return false;
  }
}

Region region_of(Observation o) {
  switch (o) {
    case Observation::SupportDevices:
      return kDevices;
    case Observation::Pneumothorax:
    case Observation::PleuralEffusion:
    case Observation::PleuralOther:
      return kPleura;
    case Observation::Cardiomegaly:
    case Observation::EnlargedCardiomediastinum:
      return kHeart;
    case Observation::Fracture:
      return kBones;
    default:
      return kLungs;
  }
}

// Laterality + zone as a noun ("right lower lobe", "lung bases bilaterally")
// and as an adjective ("right basilar", "bibasilar").
std::string lz_noun(const std::string& lat, std::string zone) {
  if (zone.empty()) zone = "lung";
  if (lat == "bilateral") {
    if (zone == "base") return "lung bases bilaterally";
    if (zone == "lung") return "lungs bilaterally";
    return "bilateral " + zone + "s";
  }
  if (zone == "base") return tidy(lat + " lung base");
  return tidy(lat + " " + zone);
}
std::string lz_adj(const std::string& lat, std::string zone) {
  if (zone.empty()) zone = "lung";
  if (zone == "base") return lat == "bilateral" ? "bibasilar" : tidy(lat + " basilar");
  return tidy(lat + " " + zone);
}

DeviceKind device_kind(const std::string& detail) {
  std::string d = lower(detail);
  if (contains(d, "endotracheal")) return DeviceKind::Ett;
  if (contains(d, "nasogastric") || contains(d, "orogastric") || contains(d, "enteric"))
    return DeviceKind::Ngt;
  if (contains(d, "jugular")) return DeviceKind::IjLine;
  if (contains(d, "picc")) return DeviceKind::Picc;
  if (contains(d, "pacemaker") || contains(d, "pacer")) return DeviceKind::Pacer;
  return DeviceKind::Other;
}

ExamKind exam_kind(const std::string& exam) {
  std::string u = upper(exam);
  if (contains(u, "PORTABLE")) return ExamKind::Portable;
  if (contains(u, "PA") && contains(u, "LAT")) return ExamKind::PaLat;
  return ExamKind::Other;
}

const std::set<std::string>& header_words() {
  static const std::set<std::string> w{"examination", "exam",     "indication",
                                       "clinical",    "history",  "technique",
                                       "comparison",  "findings", "impression"};
  return w;
}

// Greedy hard wrap; a continuation line never starts with a header word.
std::string wrap(const std::string& text, int width) {
  if (width <= 0) return text;
  std::string out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    std::string cur;
    size_t i = 0;
    std::string res;
    while (i < line.size()) {
      size_t j = line.find(' ', i);
      std::string word = line.substr(i, j == std::string::npos ? std::string::npos : j - i);
      i = j == std::string::npos ? line.size() : j + 1;
      if (word.empty()) continue;
      std::string bare;
      for (char c : word)
        if (std::isalpha(static_cast<unsigned char>(c))) bare += static_cast<char>(std::tolower(c));
      if (!cur.empty() && static_cast<int>(cur.size() + 1 + word.size()) > width &&
          !header_words().count(bare)) {
        res += cur + "\n";
        cur = word;
      } else {
        cur += (cur.empty() ? "" : " ") + word;
      }
    }
    res += cur;
    out += res;
    if (nl == std::string::npos) break;
    out += "\n";
    start = nl + 1;
  }
  return out;
}

}  // namespace report_detail
}  // namespace medforget
