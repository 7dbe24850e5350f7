#include "data/hierarchy.hpp"

#include "core/error.hpp"

namespace medforget {

std::string level_name(Level l) {
  switch (l) {
    case Level::Institution: return "institution";
    case Level::Patient: return "patient";
    case Level::Study: return "study";
    case Level::Section: return "section";
  }
  return "?";
}

Level level_from_name(const std::string& s) {
  for (Level l : all_levels())
    if (level_name(l) == s) return l;
  fail("unknown level '" + s + "' (expected one of: institution, patient, study, section)");
}

const std::vector<Level>& all_levels() {
  static const std::vector<Level> v{Level::Institution, Level::Patient, Level::Study, Level::Section};
  return v;
}

void Hierarchy::add(Node n) {
  if (n.id.empty()) fail("hierarchy: node with an empty id");
  if (index_.count(n.id)) fail("hierarchy: duplicate id '" + n.id + "'");
  if (n.level == Level::Institution) {
    if (!n.parent.empty())
      fail("hierarchy: institution '" + n.id + "' must not have a parent (has '" + n.parent + "')");
  } else {
    auto it = index_.find(n.parent);
    if (it == index_.end())
      fail("hierarchy: " + level_name(n.level) + " '" + n.id + "' has missing parent '" + n.parent + "'");
    Node& p = nodes_[it->second];
    if (static_cast<int>(p.level) != static_cast<int>(n.level) - 1)
      fail("hierarchy: " + level_name(n.level) + " '" + n.id + "' has parent '" + n.parent +
           "' of level " + level_name(p.level));
    p.children.push_back(n.id);
  }
  n.children.clear();
  index_[n.id] = nodes_.size();
  by_level_[static_cast<int>(n.level)].push_back(n.id);
  nodes_.push_back(std::move(n));
}

const Node& Hierarchy::get(const std::string& id) const {
  auto it = index_.find(id);
  if (it == index_.end()) fail("hierarchy: unknown id '" + id + "'");
  return nodes_[it->second];
}

std::vector<std::string> Hierarchy::subtree(const std::string& id) const {
  std::vector<std::string> out{id};
  for (size_t i = 0; i < out.size(); ++i)
    for (const auto& c : get(out[i]).children) out.push_back(c);
  return out;
}

std::vector<std::string> Hierarchy::siblings(const std::string& id) const {
  const Node& n = get(id);
  const auto& pool = n.parent.empty() ? at_level(Level::Institution) : get(n.parent).children;
  std::vector<std::string> out;
  for (const auto& s : pool)
    if (s != id) out.push_back(s);
  return out;
}

std::string Hierarchy::ancestor(const std::string& id, Level l) const {
  const Node* n = &get(id);
  if (static_cast<int>(n->level) < static_cast<int>(l))
    fail("hierarchy: '" + id + "' is a " + level_name(n->level) + ", it has no " + level_name(l) +
         " ancestor");
  while (n->level != l) n = &get(n->parent);
  return n->id;
}

Json Hierarchy::to_json() const {
  Json nodes = Json::array();
  for (const auto& n : nodes_)
    nodes.push_back({{"id", n.id}, {"level", level_name(n.level)}, {"name", n.name}, {"parent", n.parent}});
  return {{"nodes", nodes}};
}

Hierarchy Hierarchy::from_json(const Json& j, const std::string& file) {
  Hierarchy h;
  JsonCtx ctx{file, 0};
  const Json& nodes = get_array(j, "nodes", ctx);
  long rec = 0;
  for (const auto& nj : nodes) {
    ++rec;
    JsonCtx rctx{file + " node #" + std::to_string(rec), 0};
    Node n;
    n.id = get_string(nj, "id", rctx);
    try {
      n.level = level_from_name(get_string(nj, "level", rctx));
    } catch (const Error& e) {
      fail(where(rctx.file, 0, "level") + ": " + e.what());
    }
    n.name = get_string(nj, "name", rctx);
    n.parent = get_string(nj, "parent", rctx);
    try {
      h.add(std::move(n));
    } catch (const Error& e) {
      fail(rctx.file + ": " + e.what());
    }
  }
  return h;
}

}  // namespace medforget
