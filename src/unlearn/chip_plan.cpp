#include "unlearn/chip_plan.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "unlearn/activations.hpp"

namespace medforget {

ChipPlan plan_items(const ForgetRequest& req, int cap, uint64_t seed) {
  const Hierarchy& h = req.hierarchy;
  std::map<std::string, std::vector<const Item*>> by_node;
  for (const auto* set : {&req.forget, &req.retain})
    for (const auto& it : *set) by_node[h.ancestor(it.anchor, req.level)].push_back(&it);
  ChipPlan p;
  Rng rng = Rng(seed).fork("chip:sample");
  const bool has_below = req.level != Level::Section;
  const Level below = has_below ? static_cast<Level>(static_cast<int>(req.level) + 1) : req.level;
  for (auto& [node, items] : by_node) {
    keep_sample(items, cap, rng.fork(node));
    for (const Item* it : items) {
      const auto row = static_cast<int64_t>(p.items.size());
      p.items.push_back(it);
      p.is_forget.push_back(req.closure.count(it->anchor) > 0);
      p.rows_of_node[node].push_back(row);
      if (has_below) p.rows_of_node[h.ancestor(it->anchor, below)].push_back(row);
    }
  }
  return p;
}

torch::Tensor rows_mean(const torch::Tensor& a, const std::vector<int64_t>& rows) {
  return a.index_select(0, torch::tensor(rows, torch::kLong)).mean(0);
}

static bool retained(const ForgetRequest& req, const std::string& id) { return !req.closure.count(id); }

std::vector<std::pair<std::string, std::vector<std::string>>> chip_contrasts(const ForgetRequest& req,
                                                                               const ChipPlan& p) {
  const Hierarchy& h = req.hierarchy;
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  auto with_rows = [&](const std::string& id) { return p.rows_of_node.count(id) > 0; };
  auto retained_at = [&](Level l) {
    std::vector<std::string> v;
    for (const auto& id : h.at_level(l))
      if (retained(req, id) && with_rows(id)) v.push_back(id);
    return v;
  };
  for (const auto& t : req.targets) {
    std::vector<std::string> kept_sibs;
    for (const auto& s : h.siblings(t))
      if (retained(req, s)) kept_sibs.push_back(s);
    if (req.level == Level::Section) {
      std::vector<std::string> sib;
      for (const auto& s : kept_sibs)
        if (with_rows(s)) sib.push_back(s);
      if (sib.empty()) sib = retained_at(Level::Section);
      if (with_rows(t)) out.emplace_back(t, sib);
      continue;
    }
    const Level below = static_cast<Level>(static_cast<int>(req.level) + 1);
    std::vector<std::string> sib;
    for (const auto& s : kept_sibs)
      for (const auto& c : h.get(s).children)
        if (with_rows(c)) sib.push_back(c);
    if (sib.empty()) sib = retained_at(below);
    for (const auto& c : h.get(t).children)
      if (with_rows(c)) out.emplace_back(c, sib);
  }
  return out;
}

bool shows_one_image(const ChipPlan& p, const std::string& node, const std::vector<std::string>& siblings) {
  if (siblings.empty()) return false;  // no difference is taken, so none vanishes
  const std::string& image = p.items.at(static_cast<size_t>(p.rows_of_node.at(node).front()))->image;
  auto same = [&](const std::string& n) {
    for (int64_t row : p.rows_of_node.at(n))
      if (p.items.at(static_cast<size_t>(row))->image != image) return false;
    return true;
  };
  if (!same(node)) return false;
  for (const auto& s : siblings)
    if (!same(s)) return false;
  return true;
}

torch::Tensor sibling_mean(const torch::Tensor& acts, const ChipPlan& p, const std::vector<std::string>& siblings,
                           SiblingMean how) {
  if (siblings.empty()) fail("chip: a sibling mean needs at least one sibling");
  if (how == SiblingMean::OfItems) {
    // Sibling nodes are nodes of one level: their rows are disjoint.
    std::vector<int64_t> rows;
    for (const auto& s : siblings) {
      const auto& r = p.rows_of_node.at(s);
      rows.insert(rows.end(), r.begin(), r.end());
    }
    return rows_mean(acts, rows);
  }
  std::vector<torch::Tensor> sm;
  for (const auto& s : siblings) sm.push_back(rows_mean(acts, p.rows_of_node.at(s)));
  return torch::stack(sm).mean(0);
}

torch::Tensor sibling_direction(const torch::Tensor& acts, const ChipPlan& p, const std::string& node,
                                const std::vector<std::string>& siblings, const torch::Tensor& selected,
                                bool use_siblings, SiblingMean how) {
  auto mu = rows_mean(acts, p.rows_of_node.at(node)).index_select(0, selected);
  double scale = mu.norm().item().toDouble();
  if (use_siblings && !siblings.empty()) {
    auto mu_sib = sibling_mean(acts, p, siblings, how).index_select(0, selected);
    scale = std::max(scale, mu_sib.norm().item().toDouble());
    mu = mu - mu_sib;
  }
  const double nrm = mu.norm().item().toDouble();
  return nrm > 1e-12 && nrm > kDirectionRelTol * scale ? mu / nrm : torch::Tensor();
}

RemovedShare removed_share(const torch::Tensor& acts, const torch::Tensor& selected, const torch::Tensor& Q,
                           bool zero_out) {
  auto as = acts.index_select(1, selected);
  auto sel_energy = as.pow(2).sum(1);
  torch::Tensor removed = zero_out ? sel_energy
                          : Q.defined() ? as.matmul(Q.to(as.scalar_type())).pow(2).sum(1)
                                        : torch::zeros_like(sel_energy);
  return {removed / sel_energy.clamp_min(1e-20), removed / acts.pow(2).sum(1).clamp_min(1e-20)};
}

}  // namespace medforget
