#include "data/splits.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.hpp"

namespace medforget {

std::vector<std::string> choose_forget_nodes(const Hierarchy& h, Level level, double ratio, Rng& rng) {
  const auto& nodes = h.at_level(level);
  const int n = static_cast<int>(nodes.size());
  if (n < 2)
    fail("split: level " + level_name(level) + " has " + std::to_string(n) +
         " node(s); at least 2 are needed so a forgotten node keeps a retained sibling");
  int count = std::clamp(static_cast<int>(std::lround(ratio * n)), 1, n - 1);

  // Group the level's nodes by parent (institutions share the root).
  std::vector<std::string> parents;
  std::map<std::string, std::vector<std::string>> kids;
  for (const auto& id : nodes) {
    const auto& p = h.get(id).parent;
    if (!kids.count(p)) parents.push_back(p);
    kids[p].push_back(id);
  }
  rng.shuffle(parents);
  const int np = static_cast<int>(parents.size());
  std::map<std::string, int> quota;
  for (int i = 0; i < np; ++i) quota[parents[i]] = count / np + (i < count % np ? 1 : 0);
  // A parent whose quota would forget all its children hands the excess on.
  int excess = 0;
  for (auto& p : parents) {
    int cap = static_cast<int>(kids[p].size()) - 1;
    if (quota[p] > cap) {
      excess += quota[p] - cap;
      quota[p] = cap;
    }
  }
  for (auto& p : parents) {
    int cap = static_cast<int>(kids[p].size()) - 1;
    while (excess > 0 && quota[p] < cap) {
      ++quota[p];
      --excess;
    }
  }
  if (excess > 0)
    fail("split: cannot forget " + std::to_string(count) + " " + level_name(level) +
         " nodes while keeping a retained sibling for each");

  std::map<size_t, int> used_positions;
  std::vector<std::string> out;
  for (const auto& p : parents) {
    std::vector<size_t> free(kids[p].size());
    for (size_t i = 0; i < free.size(); ++i) free[i] = i;
    for (int q = 0; q < quota[p]; ++q) {
      rng.shuffle(free);
      auto best = std::min_element(free.begin(), free.end(), [&](size_t a, size_t b) {
        return used_positions[a] < used_positions[b];
      });
      out.push_back(kids[p][*best]);
      ++used_positions[*best];
      free.erase(best);
    }
  }
  // Report order = hierarchy order, independent of the shuffles.
  std::sort(out.begin(), out.end(), [&](const std::string& a, const std::string& b) {
    return std::find(nodes.begin(), nodes.end(), a) < std::find(nodes.begin(), nodes.end(), b);
  });
  return out;
}

std::set<std::string> forget_closure(const Hierarchy& h, const std::vector<std::string>& forget_nodes) {
  std::set<std::string> s;
  for (const auto& f : forget_nodes)
    for (const auto& id : h.subtree(f)) s.insert(id);
  return s;
}

}  // namespace medforget
