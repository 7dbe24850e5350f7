#pragma once
// A deletion request resolved against a benchmark: which hierarchy nodes are
// to be forgotten, every fine-tuning item in their subtrees (forget set) and
// every other fine-tuning item (retain set).
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "data/hierarchy.hpp"
#include "data/item.hpp"

namespace medforget {

struct ForgetRequest {
  Level level = Level::Patient;
  std::vector<std::string> targets;  // node ids at `level`
  bool default_split = true;         // targets came from the level's forget split
  Hierarchy hierarchy;
  std::set<std::string> closure;     // every node in the targets' subtrees
  std::vector<Item> forget, retain;
  size_t n_forgotten_before = 0;     // items under `forgotten`, left out of both sets
  Json to_json() const;              // level, targets, counts (for provenance)
};

// Without targets the level's forget split (levels/<level>/forget_nodes.json)
// is the request. Errors name the offending id: unknown, of another level,
// given twice, or leaving some target without a retained sibling (every
// unlearning method here contrasts a target with what is kept around it).
// `forgotten` names nodes an earlier request already removed: their subtrees
// are neither forgotten again nor retained (retaining them would teach the
// model back what it was made to forget).
ForgetRequest resolve_request(const std::filesystem::path& bench_dir, Level level,
                              const std::vector<std::string>& targets = {},
                              const std::vector<std::string>& forgotten = {});

}  // namespace medforget
