// libFuzzer harness: a benchmark's JSONL item files (src/data/item.cpp
// read_items -> core/json for_each_jsonl -> item_from_json).
//
// Invariant: an item that reads is written back by item_to_json (write_items)
// into a line that reads again to the same item.
#include <cstdint>

#include "data/item.hpp"
#include "fuzz_util.hpp"

namespace {

bool same(const medforget::Item& a, const medforget::Item& b) {
  return a.id == b.id && a.task == b.task && a.level == b.level && a.institution == b.institution &&
         a.patient == b.patient && a.study == b.study && a.section == b.section &&
         a.section_name == b.section_name && a.anchor == b.anchor && a.prompt == b.prompt &&
         a.answer == b.answer && a.options == b.options && a.answer_index == b.answer_index &&
         a.image == b.image && a.context == b.context && a.source == b.source;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medforget;
  const auto p = fuzz::scratch_dir() / "items.jsonl";
  fuzz::write_input(p, data, size);
  std::vector<Item> items;
  try {
    items = read_items(p);
  } catch (const Error&) {
    return 0;
  }
  for (const auto& it : items) {
    try {
      Item again = item_from_json(item_to_json(it), {"written", 1});
      if (!same(it, again))
        fuzz::invariant_failed("item changed in a write/read round trip", it.id);
    } catch (const Error& e) {
      fuzz::invariant_failed("an item that read does not read back after item_to_json", e.what());
    }
  }
  return 0;
}
