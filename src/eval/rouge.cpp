#include "eval/rouge.hpp"

#include <cctype>

namespace medforget {

std::vector<std::string> rouge_tokenize(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (unsigned char c : text) {
    if (std::isalnum(c) && c < 128) {
      cur += static_cast<char>(std::tolower(c));
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

RougeL rouge_l(const std::string& reference, const std::string& prediction) {
  auto r = rouge_tokenize(reference), p = rouge_tokenize(prediction);
  RougeL s;
  if (r.empty() || p.empty()) return s;
  double l = static_cast<double>(lcs_length(r, p));
  s.precision = l / static_cast<double>(p.size());
  s.recall = l / static_cast<double>(r.size());
  s.f = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall) : 0;
  return s;
}

}  // namespace medforget
