#pragma once
// Forget/retain partitions per hierarchy level.
#include <set>
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "data/hierarchy.hpp"

namespace medforget {

// ratio × (nodes of the level), at least 1 and never all of them, spread as
// evenly as possible across parents so every forget node keeps a retained
// sibling; within a parent, children are picked so that each child position
// (first section, second section, ...) is forgotten equally often overall.
// Throws Error when some parent cannot keep a retained child.
std::vector<std::string> choose_forget_nodes(const Hierarchy& h, Level level, double ratio, Rng& rng);

// Every node in the subtrees of `forget_nodes`.
std::set<std::string> forget_closure(const Hierarchy& h, const std::vector<std::string>& forget_nodes);

}  // namespace medforget
