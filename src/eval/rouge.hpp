#pragma once
// ROUGE-L F-measure with the semantics of Google's rouge-score package
// (rouge_scorer with use_stemmer=False): lower-case, replace every
// non-alphanumeric character by a space, split on whitespace, LCS over tokens.
#include <string>
#include <vector>

namespace medforget {

std::vector<std::string> rouge_tokenize(const std::string& text);
size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b);

struct RougeL {
  double precision = 0, recall = 0, f = 0;
};
// Empty prediction or reference: all zeros, as rouge-score does.
RougeL rouge_l(const std::string& reference, const std::string& prediction);

}  // namespace medforget
