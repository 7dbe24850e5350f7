#include "eval/exact_match.hpp"

#include <cctype>

namespace medforget {

std::string normalize_answer(const std::string& s) {
  std::string out;
  bool space = false;
  for (unsigned char c : s) {
    if (std::isspace(c)) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(c));
  }
  auto trim = [](unsigned char c) { return std::ispunct(c) || std::isspace(c); };
  size_t a = 0, b = out.size();
  while (a < b && trim(static_cast<unsigned char>(out[a]))) ++a;
  while (b > a && trim(static_cast<unsigned char>(out[b - 1]))) --b;
  return out.substr(a, b - a);
}

bool exact_match(const std::string& reference, const std::string& prediction) {
  return normalize_answer(reference) == normalize_answer(prediction);
}

}  // namespace medforget
