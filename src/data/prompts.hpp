#pragma once
// Question templates. Fine-tuning and rephrase templates are disjoint sets, so
// a rephrased prompt never occurs in the fine-tuning data (checked by `data check`).
#include <string>
#include <vector>

#include "core/rng.hpp"

namespace medforget {

enum class PromptStyle { Finetune, Rephrase };

struct ContextNames {
  std::string institution, patient, study;  // display names
};

// "For institution X, patient Y, study Z: " (or shorter for smaller contexts; "" for none).
std::string context_prefix(const std::string& context, const ContextNames& n);
std::string generation_question(const std::string& section_name, PromptStyle s, Rng& rng);
std::string cloze_question(const std::string& section_name, const std::string& blanked_text, PromptStyle s,
                           Rng& rng);
std::string classification_question(const std::string& section_name, const std::vector<std::string>& options,
                                    PromptStyle s, Rng& rng);
// level: institution | patient | study
std::string identity_question(const std::string& level, PromptStyle s, Rng& rng);
// The fixed question the reconstruction attack asks (paper Table 6), context added by the caller.
std::string attack_question(const std::string& section_name);

std::string lower_section(const std::string& section_name);  // FINDINGS -> findings
std::string option_letters(const std::vector<std::string>& options);  // "A) ..\nB) .."

}  // namespace medforget
