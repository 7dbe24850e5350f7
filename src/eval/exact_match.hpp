#pragma once
// Normalised exact match for cloze and identity answers: case, surrounding
// punctuation and inner whitespace do not count.
#include <string>

namespace medforget {

std::string normalize_answer(const std::string& s);
bool exact_match(const std::string& reference, const std::string& prediction);

}  // namespace medforget
