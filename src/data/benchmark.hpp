#pragma once
// The MedForget benchmark builder and checker. On-disk layout of DIR:
//   manifest.json             stage "benchmark": params, inputs, counts, content digest
//   hierarchy.json            fine-tuning hierarchy (institution ⊃ patient ⊃ study ⊃ section)
//   general_hierarchy.json    held-out institutions/patients/studies of the general set
//   images/<study>.png        radiographs; images/rephrase/<study>.png augmented views
//   finetune.jsonl            every fine-tuning item (3,840 at the paper preset)
//   general.jsonl             held-out diagnostic items on unseen images
//   levels/<level>/forget_nodes.json, forget.jsonl, retain.jsonl,
//                  forget_rephrase.jsonl, attack.jsonl
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "data/corpus.hpp"
#include "data/hierarchy.hpp"
#include "data/item.hpp"
#include "data/preset.hpp"
#include "data/prompts.hpp"
#include "data/report_parser.hpp"

namespace medforget {

// Builds into a staging directory and renames it to `out` only when complete.
// Returns the manifest.
Json build_benchmark(const Corpus& corpus, const std::filesystem::path& corpus_dir, const DataPreset& preset,
                     uint64_t seed, const std::filesystem::path& out, const Json& inputs);

// The reconstruction attack's prompts for one generation item: the fixed
// question under each context, from none to the whole hierarchy path.
inline const char* const kAttackContexts[] = {"none", "study", "patient+study", "institution+patient+study"};
std::vector<Item> attack_items(const Hierarchy& h, const Item& generation_item);

// The three section tasks of one report section (generation, cloze,
// classification) on `base` (path, section, section name and image filled in),
// each question after `prefix`. The blanked span and the option set come from
// `content_rng`, the wording from `rng`. Shared by the benchmark and the
// pretraining set, so both ask the same kinds of question.
std::vector<Item> section_task_items(const Item& base, const ReportSection& sec, const std::string& prefix,
                                     const std::string& context, PromptStyle style,
                                     const std::vector<std::string>& pool, const Rng& content_rng, Rng& rng);
// Fallback classification options per section name, so a small corpus still
// yields three distractors.
const std::map<std::string, std::vector<std::string>>& default_option_pools();

struct CheckReport {
  Json counts;            // the numbers printed by `data check`
  std::string table;      // human-readable counts table
};
// Validates everything (manifest digest, hierarchy, items, images, splits,
// rephrase and attack sets); throws Error naming the first problem found.
CheckReport check_benchmark(const std::filesystem::path& dir);

}  // namespace medforget
