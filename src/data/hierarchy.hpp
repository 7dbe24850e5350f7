#pragma once
// Institution ⊃ Patient ⊃ Study ⊃ Section with stable string ids and
// parent/child, subtree and sibling queries.
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace medforget {

enum class Level { Institution = 0, Patient = 1, Study = 2, Section = 3 };
constexpr int kNumLevels = 4;

std::string level_name(Level l);          // "institution", ...
Level level_from_name(const std::string& s);  // throws Error listing the valid names
const std::vector<Level>& all_levels();   // coarse to fine

struct Node {
  std::string id;
  Level level = Level::Institution;
  std::string name;    // display name: institution/patient name, study id, section name
  std::string parent;  // "" for institutions
  std::vector<std::string> children;
};

class Hierarchy {
 public:
  // Throws Error on duplicate ids, a missing parent, or a parent of the wrong level.
  void add(Node n);
  bool has(const std::string& id) const { return index_.count(id) > 0; }
  const Node& get(const std::string& id) const;
  const std::vector<std::string>& at_level(Level l) const { return by_level_[static_cast<int>(l)]; }
  // The node itself and every descendant, in insertion order.
  std::vector<std::string> subtree(const std::string& id) const;
  // Same-level nodes sharing the parent (all other institutions for an institution).
  std::vector<std::string> siblings(const std::string& id) const;
  // Ancestor of `id` at level l (the node itself if it is at l).
  std::string ancestor(const std::string& id, Level l) const;
  size_t size() const { return nodes_.size(); }

  Json to_json() const;
  static Hierarchy from_json(const Json& j, const std::string& file);

 private:
  std::vector<Node> nodes_;
  std::map<std::string, size_t> index_;
  std::vector<std::string> by_level_[kNumLevels];
};

}  // namespace medforget
