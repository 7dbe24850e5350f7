#include "unlearn/request.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "data/splits.hpp"

namespace medforget {

Json ForgetRequest::to_json() const {
  Json j = {{"level", level_name(level)},
            {"targets", targets},
            {"default_split", default_split},
            {"n_forget", forget.size()},
            {"n_retain", retain.size()}};
  if (n_forgotten_before) j["n_forgotten_before"] = n_forgotten_before;
  return j;
}

namespace {

std::vector<std::string> split_targets(const std::filesystem::path& bench_dir, Level level) {
  const auto f = bench_dir / "levels" / level_name(level) / "forget_nodes.json";
  Json j = read_json(f);
  if (!j.contains("nodes") || !j["nodes"].is_array()) fail(f.string() + ": field 'nodes' missing or not an array");
  return j["nodes"].get<std::vector<std::string>>();
}

std::string with_article(const std::string& noun) {
  return (noun.find_first_of("aeiou") == 0 ? "an " : "a ") + noun;
}

void check_targets(const Hierarchy& h, Level level, const std::vector<std::string>& targets) {
  if (targets.empty()) fail("unlearn: the request names no targets");
  std::set<std::string> seen;
  for (const auto& t : targets) {
    if (!h.has(t)) fail("unlearn: target '" + t + "' is not a node of the benchmark's hierarchy");
    const Node& n = h.get(t);
    if (n.level != level)
      fail("unlearn: target '" + t + "' is " + with_article(level_name(n.level)) + ", not " + with_article(level_name(level)) +
           " (the request's --level)");
    if (!seen.insert(t).second) fail("unlearn: target '" + t + "' is given twice");
  }
  for (const auto& t : targets) {
    auto sib = h.siblings(t);
    bool kept = std::any_of(sib.begin(), sib.end(), [&](const std::string& s) { return !seen.count(s); });
    if (!kept)
      fail("unlearn: target '" + t + "' would have no retained sibling (all " + std::to_string(sib.size() + 1) +
           " children of its parent are requested); a request must leave at least one " + level_name(level) +
           " under each parent");
  }
}

}  // namespace

ForgetRequest resolve_request(const std::filesystem::path& bench_dir, Level level,
                              const std::vector<std::string>& targets,
                              const std::vector<std::string>& forgotten) {
  ForgetRequest r;
  r.level = level;
  r.hierarchy = Hierarchy::from_json(read_json(bench_dir / "hierarchy.json"), (bench_dir / "hierarchy.json").string());
  r.default_split = targets.empty();
  r.targets = targets.empty() ? split_targets(bench_dir, level) : targets;
  check_targets(r.hierarchy, level, r.targets);
  r.closure = forget_closure(r.hierarchy, r.targets);
  for (const auto& f : forgotten)
    if (!r.hierarchy.has(f)) fail("unlearn: forgotten node '" + f + "' is not a node of the benchmark's hierarchy");
  const std::set<std::string> gone = forget_closure(r.hierarchy, forgotten);
  for (auto& it : read_items(bench_dir / "finetune.jsonl")) {
    if (r.closure.count(it.anchor))
      r.forget.push_back(std::move(it));
    else if (gone.count(it.anchor))
      ++r.n_forgotten_before;
    else
      r.retain.push_back(std::move(it));
  }
  if (r.forget.empty()) fail("unlearn: the request's subtrees hold no fine-tuning items");
  if (r.retain.empty()) fail("unlearn: the request leaves no retain items");
  return r;
}

}  // namespace medforget
