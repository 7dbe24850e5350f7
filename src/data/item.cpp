#include "data/item.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/ids.hpp"
#include "data/hierarchy.hpp"

namespace medforget {

const char* const kTasks[4] = {"generation", "cloze", "classification", "identity"};

static const char* const kContexts[] = {"none", "study", "patient+study", "institution+patient+study"};

Json item_to_json(const Item& it) {
  Json j = {{"id", it.id},
            {"task", it.task},
            {"level", it.level},
            {"path",
             {{"institution", it.institution}, {"patient", it.patient}, {"study", it.study}, {"section", it.section}}},
            {"section_name", it.section_name},
            {"anchor", it.anchor},
            {"prompt", it.prompt},
            {"answer", it.answer},
            {"options", it.options},
            {"answer_index", it.answer_index},
            {"image", it.image},
            {"context", it.context}};
  if (!it.source.empty()) j["source"] = it.source;
  return j;
}

Item item_from_json(const Json& j, const JsonCtx& ctx) {
  Item it;
  it.id = get_string(j, "id", ctx);
  if (it.id.empty()) fail(where(ctx.file, ctx.line, "id") + ": empty");
  it.task = get_string(j, "task", ctx);
  if (std::none_of(std::begin(kTasks), std::end(kTasks), [&](const char* t) { return it.task == t; }))
    fail(where(ctx.file, ctx.line, "task") + ": unknown task '" + it.task +
         "' (expected generation, cloze, classification or identity)");
  it.level = get_string(j, "level", ctx);
  try {
    level_from_name(it.level);
  } catch (const Error& e) {
    fail(where(ctx.file, ctx.line, "level") + ": " + e.what());
  }
  const Json& path = get_object(j, "path", ctx);
  it.institution = get_string(path, "institution", ctx);
  it.patient = get_string(path, "patient", ctx);
  it.study = get_string(path, "study", ctx);
  it.section = get_string(path, "section", ctx);
  it.section_name = get_string(j, "section_name", ctx);
  it.anchor = get_string(j, "anchor", ctx);
  it.prompt = get_string(j, "prompt", ctx);
  it.answer = get_string(j, "answer", ctx);
  if (it.prompt.empty()) fail(where(ctx.file, ctx.line, "prompt") + ": empty");
  if (it.answer.empty()) fail(where(ctx.file, ctx.line, "answer") + ": empty");
  it.options = get_string_array(j, "options", ctx);
  it.answer_index = static_cast<int>(get_int(j, "answer_index", ctx));
  if (!it.options.empty()) {
    if (it.answer_index < 0 || it.answer_index >= static_cast<int>(it.options.size()))
      fail(where(ctx.file, ctx.line, "answer_index") + ": out of range for " +
           std::to_string(it.options.size()) + " options");
    if (it.options[static_cast<size_t>(it.answer_index)] != it.answer)
      fail(where(ctx.file, ctx.line, "answer") + ": does not equal options[answer_index]");
  }
  it.image = get_string(j, "image", ctx);
  check_relative_path(it.image, where(ctx.file, ctx.line, "image"));
  it.context = get_string(j, "context", ctx);
  if (std::none_of(std::begin(kContexts), std::end(kContexts), [&](const char* c) { return it.context == c; }))
    fail(where(ctx.file, ctx.line, "context") + ": unknown context '" + it.context + "'");
  if (j.contains("source")) it.source = get_string(j, "source", ctx);
  return it;
}

std::vector<Item> read_items(const std::filesystem::path& p) {
  std::vector<Item> items;
  for_each_jsonl(p, [&](const Json& j, long line) { items.push_back(item_from_json(j, {p.string(), line})); });
  return items;
}

void write_items(const std::filesystem::path& p, const std::vector<Item>& items) {
  std::vector<Json> rows;
  rows.reserve(items.size());
  for (const auto& it : items) rows.push_back(item_to_json(it));
  write_jsonl(p, rows);
}

}  // namespace medforget
