#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/manifest.hpp"
#include "core/progress.hpp"
#include "data/benchmark.hpp"
#include "data/hierarchy.hpp"
#include "data/item.hpp"
#include "data/radiograph.hpp"

namespace medforget {

namespace {

struct Checker {
  std::filesystem::path dir;
  int image_size = 0;
  std::set<std::string> images_ok;

  void image(const std::string& rel, const std::string& where_) {
    if (images_ok.count(rel)) return;
    if (rel.empty() || rel.find("..") != std::string::npos)
      fail(where_ + ": field 'image': expected a path inside the benchmark, got '" + rel + "'");
    try {
      read_png(dir / rel, image_size);
    } catch (const Error& e) {
      fail(where_ + ": field 'image': " + e.what());
    }
    images_ok.insert(rel);
  }

  std::vector<Item> items(const std::string& rel) {
    auto p = dir / rel;
    if (!std::filesystem::exists(p)) fail(p.string() + ": missing");
    auto v = read_items(p);
    std::set<std::string> ids;
    for (size_t i = 0; i < v.size(); ++i)
      if (!ids.insert(v[i].id).second)
        fail(where(p.string(), static_cast<long>(i + 1), "id") + ": duplicate id '" + v[i].id + "'");
    return v;
  }

  // The item's path must be the anchor's ancestry in the hierarchy.
  void path(const Item& it, const Hierarchy& h, const std::string& file, long line) {
    auto bad = [&](const std::string& field, const std::string& msg) { fail(where(file, line, field) + ": " + msg); };
    if (!h.has(it.anchor)) bad("anchor", "unknown node '" + it.anchor + "'");
    if (h.get(it.anchor).level != Level::Section) bad("anchor", "'" + it.anchor + "' is not a section");
    if (h.ancestor(it.anchor, Level::Study) != it.study) bad("path.study", "does not match the anchor's study");
    if (h.ancestor(it.anchor, Level::Patient) != it.patient) bad("path.patient", "does not match the anchor's patient");
    if (h.ancestor(it.anchor, Level::Institution) != it.institution)
      bad("path.institution", "does not match the anchor's institution");
    if (it.task != "identity" && it.section != it.anchor) bad("path.section", "section tasks are anchored to their section");
  }
};

int expected_forget_count(size_t n, double ratio) {
  return std::clamp(static_cast<int>(std::lround(ratio * static_cast<double>(n))), 1, static_cast<int>(n) - 1);
}

}  // namespace

CheckReport check_benchmark(const std::filesystem::path& dir) {
  Json m = read_manifest(dir, "benchmark");
  verify_manifest_digest(dir, m);
  Checker c;
  c.dir = dir;
  JsonCtx mctx{(dir / "manifest.json").string(), 0};
  const Json& params = get_object(m, "params", mctx);
  c.image_size = static_cast<int>(get_int(params, "image_size", mctx));
  double ratio = get_number(params, "forget_ratio", mctx);

  auto hfile = (dir / "hierarchy.json").string();
  Hierarchy h = Hierarchy::from_json(read_json(dir / "hierarchy.json"), hfile);
  Hierarchy gh = Hierarchy::from_json(read_json(dir / "general_hierarchy.json"), (dir / "general_hierarchy.json").string());
  for (Level l : all_levels())
    for (const auto& id : gh.at_level(l))
      if (h.has(id)) fail((dir / "general_hierarchy.json").string() + ": held-out node '" + id + "' is also in the fine-tuning hierarchy");

  auto ft = c.items("finetune.jsonl");
  auto gen = c.items("general.jsonl");
  Progress prog("data check", ft.size() + gen.size());
  std::map<std::string, const Item*> ft_by_id;
  std::set<std::string> ft_prompts;
  std::map<std::string, int> by_task;
  std::set<std::string> anchors_with_items;
  for (size_t i = 0; i < ft.size(); ++i) {
    const auto& it = ft[i];
    std::string f = (dir / "finetune.jsonl").string();
    c.path(it, h, f, static_cast<long>(i + 1));
    c.image(it.image, where(f, static_cast<long>(i + 1)));
    ft_by_id[it.id] = &it;
    ft_prompts.insert(it.prompt);
    ++by_task[it.task];
    if (it.task != "identity") anchors_with_items.insert(it.anchor);
    prog.tick();
  }
  for (const auto& s : h.at_level(Level::Section))
    if (!anchors_with_items.count(s)) fail(hfile + ": section '" + s + "' has no fine-tuning items");
  for (size_t i = 0; i < gen.size(); ++i) {
    std::string f = (dir / "general.jsonl").string();
    if (!gh.has(gen[i].study))
      fail(where(f, static_cast<long>(i + 1), "path.study") + ": '" + gen[i].study + "' is not a held-out study");
    c.image(gen[i].image, where(f, static_cast<long>(i + 1)));
    prog.tick();
  }
  prog.done();

  Json levels = Json::object();
  std::ostringstream table;
  table << "level        nodes  forget_nodes  forget  retain  forget_rephrase  attack\n";
  for (Level l : all_levels()) {
    std::string ln = level_name(l), base = "levels/" + ln + "/";
    auto fn_path = dir / (base + "forget_nodes.json");
    Json fn = read_json(fn_path);
    auto nodes = get_string_array(fn, "nodes", {fn_path.string(), 0});
    std::set<std::string> closure;
    std::set<std::string> unique_nodes;
    for (const auto& id : nodes) {
      if (!h.has(id)) fail(fn_path.string() + ": unknown forget node '" + id + "'");
      if (h.get(id).level != l) fail(fn_path.string() + ": forget node '" + id + "' is not a " + ln);
      if (!unique_nodes.insert(id).second) fail(fn_path.string() + ": duplicate forget node '" + id + "'");
      for (const auto& s : h.subtree(id)) closure.insert(s);
    }
    for (const auto& id : nodes) {
      auto sib = h.siblings(id);
      if (std::none_of(sib.begin(), sib.end(), [&](const std::string& s) { return !unique_nodes.count(s); }))
        fail(fn_path.string() + ": forget node '" + id + "' has no retained sibling");
    }
    int want = expected_forget_count(h.at_level(l).size(), ratio);
    if (static_cast<int>(nodes.size()) != want)
      fail(fn_path.string() + ": " + std::to_string(nodes.size()) + " forget nodes, expected " + std::to_string(want) +
           " (ratio " + std::to_string(ratio) + " of " + std::to_string(h.at_level(l).size()) + ")");

    auto forget = c.items(base + "forget.jsonl");
    auto retain = c.items(base + "retain.jsonl");
    std::set<std::string> seen;
    for (const auto* part : {&forget, &retain}) {
      bool is_forget = part == &forget;
      std::string f = (dir / (base + (is_forget ? "forget.jsonl" : "retain.jsonl"))).string();
      for (size_t i = 0; i < part->size(); ++i) {
        const auto& it = (*part)[i];
        auto src = ft_by_id.find(it.id);
        if (src == ft_by_id.end()) fail(where(f, static_cast<long>(i + 1), "id") + ": '" + it.id + "' is not a fine-tuning item");
        if (item_to_json(*src->second) != item_to_json(it))
          fail(where(f, static_cast<long>(i + 1)) + ": differs from fine-tuning item '" + it.id + "'");
        if (!seen.insert(it.id).second)
          fail(where(f, static_cast<long>(i + 1), "id") + ": '" + it.id + "' is in both forget and retain");
        if (closure.count(it.anchor) != static_cast<size_t>(is_forget))
          fail(where(f, static_cast<long>(i + 1)) + ": '" + it.id + "' belongs in the " +
               (is_forget ? "retain" : "forget") + " set (its anchor is " + (is_forget ? "outside" : "inside") +
               " a forgotten subtree)");
      }
    }
    if (seen.size() != ft.size())
      fail(dir.string() + "/" + base + ": forget + retain hold " + std::to_string(seen.size()) + " of " +
           std::to_string(ft.size()) + " fine-tuning items");

    std::set<std::string> forget_ids;
    for (const auto& it : forget) forget_ids.insert(it.id);
    auto rephrase = c.items(base + "forget_rephrase.jsonl");
    std::set<std::string> rephrased;
    for (size_t i = 0; i < rephrase.size(); ++i) {
      const auto& it = rephrase[i];
      std::string f = (dir / (base + "forget_rephrase.jsonl")).string();
      if (!forget_ids.count(it.source)) fail(where(f, static_cast<long>(i + 1), "source") + ": '" + it.source + "' is not a forget item");
      if (ft_prompts.count(it.prompt)) fail(where(f, static_cast<long>(i + 1), "prompt") + ": rephrased prompt occurs in the fine-tuning set");
      if (it.answer != ft_by_id.at(it.source)->answer) fail(where(f, static_cast<long>(i + 1), "answer") + ": differs from its source item");
      c.image(it.image, where(f, static_cast<long>(i + 1)));
      rephrased.insert(it.source);
    }
    if (rephrased.size() != forget_ids.size())
      fail(dir.string() + "/" + base + "forget_rephrase.jsonl: covers " + std::to_string(rephrased.size()) + " of " +
           std::to_string(forget_ids.size()) + " forget items");
    auto attack = c.items(base + "attack.jsonl");
    std::map<std::string, std::set<std::string>> contexts;
    size_t gen_forget = 0;
    for (const auto& it : forget) gen_forget += it.task == "generation";
    for (size_t i = 0; i < attack.size(); ++i) {
      std::string f = (dir / (base + "attack.jsonl")).string();
      const auto& it = attack[i];
      if (!forget_ids.count(it.source) || ft_by_id.at(it.source)->task != "generation")
        fail(where(f, static_cast<long>(i + 1), "source") + ": not a forgotten generation item");
      contexts[it.source].insert(it.context);
    }
    for (const auto& [src, ctxs] : contexts)
      if (ctxs.size() != 4) fail(dir.string() + "/" + base + "attack.jsonl: '" + src + "' lacks some of the 4 contexts");
    if (contexts.size() != gen_forget)
      fail(dir.string() + "/" + base + "attack.jsonl: covers " + std::to_string(contexts.size()) + " of " +
           std::to_string(gen_forget) + " forgotten generation items");

    levels[ln] = {{"nodes", h.at_level(l).size()},   {"forget_nodes", nodes.size()},
                  {"forget", forget.size()},          {"retain", retain.size()},
                  {"forget_rephrase", rephrase.size()}, {"attack", attack.size()}};
    char row[160];
    std::snprintf(row, sizeof row, "%-12s %5zu  %12zu  %6zu  %6zu  %15zu  %6zu\n", ln.c_str(), h.at_level(l).size(),
                  nodes.size(), forget.size(), retain.size(), rephrase.size(), attack.size());
    table << row;
  }
  CheckReport r;
  r.counts = {{"institutions", h.at_level(Level::Institution).size()},
              {"patients", h.at_level(Level::Patient).size()},
              {"studies", h.at_level(Level::Study).size()},
              {"sections", h.at_level(Level::Section).size()},
              {"finetune_items", ft.size()},
              {"general_items", gen.size()},
              {"tasks", by_task},
              {"levels", levels}};
  std::ostringstream head;
  head << "benchmark " << dir.string() << ": OK\n"
       << "hierarchy: " << r.counts["institutions"] << " institutions, " << r.counts["patients"] << " patients, "
       << r.counts["studies"] << " studies, " << r.counts["sections"] << " sections\n"
       << "fine-tuning items: " << ft.size() << " (generation " << by_task["generation"] << ", cloze "
       << by_task["cloze"] << ", classification " << by_task["classification"] << ", identity "
       << by_task["identity"] << "); general items: " << gen.size() << "\n";
  r.table = head.str() + table.str();
  return r;
}

}  // namespace medforget
