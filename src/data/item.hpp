#pragma once
// One benchmark item (image + question + answer) and its JSONL form.
#include <string>
#include <vector>

#include "core/json.hpp"

namespace medforget {

struct Item {
  std::string id;       // "study_chest_xray_481/findings#cloze"
  std::string task;     // generation | cloze | classification | identity
  std::string level;    // section for section tasks; institution|patient|study for identity items
  std::string institution, patient, study, section;  // hierarchy path (section "" for identity)
  std::string section_name;  // FINDINGS, ... ("" for identity)
  std::string anchor;   // the hierarchy node whose subtree holds the item
  std::string prompt, answer;
  std::vector<std::string> options;  // classification / identity: 4 options, exactly one correct
  int answer_index = -1;
  std::string image;    // relative to the benchmark directory
  std::string context;  // hierarchical context in the prompt: none | study | patient+study | institution+patient+study
  std::string source;   // rephrase / attack items: id of the fine-tuning item they derive from
};

extern const char* const kTasks[4];

Json item_to_json(const Item& it);
Item item_from_json(const Json& j, const JsonCtx& ctx);  // validates fields and task/level names
std::vector<Item> read_items(const std::filesystem::path& p);
void write_items(const std::filesystem::path& p, const std::vector<Item>& items);

}  // namespace medforget
