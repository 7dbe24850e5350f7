#pragma once
// Rule-based task construction from report text (the paper used an LLM; we
// have none): cloze spans from clinical lexicons, multiple-choice options from
// the same field of other reports.
#include <map>
#include <string>
#include <vector>

#include "core/rng.hpp"

namespace medforget {

struct ClozeSpan {
  size_t pos = 0, len = 0;
  std::string category;  // finding | device | severity | laterality | indication | exam | word
  std::string text() const;
  std::string source;
};

// Whether a section text can yield the section tasks: it has a letter or digit
// to blank and to ask about. "___" (a MIMIC de-identification mark) or "." has
// not; "CP" has. The builder leaves other sections out before sampling.
bool has_task_content(const std::string& section_text);

// Picks one clinically salient span of `text` (findings, devices, severity,
// laterality, indication and exam terms; a content word as last resort).
// Throws Error if the text has no usable word at all.
ClozeSpan pick_cloze_span(const std::string& text, Rng& rng);
std::string blank_out(const std::string& text, const ClozeSpan& span);  // span -> "[blank]"

// The option text a classification item asks about: for short fields the whole
// text (an abbreviation such as "CP" included), otherwise its most clinically
// salient sentence. Throws Error when !has_task_content(section_text).
std::string classification_key(const std::string& section_text);
std::vector<std::string> split_sentences(const std::string& text);
std::string normalize_text(const std::string& s);  // lower-case, collapse non-alphanumerics

// Options pool per section name: every candidate key seen in the corpus.
using OptionPool = std::map<std::string, std::vector<std::string>>;

struct Choice {
  std::vector<std::string> options;
  int answer_index;
};
// Four options, exactly one correct: distractors come from the same field of
// other reports, never occur in `section_text`, and are pairwise distinct.
Choice make_choice(const std::string& correct, const std::string& section_text,
                   const std::vector<std::string>& pool, Rng& rng);

}  // namespace medforget
