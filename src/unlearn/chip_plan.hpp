#pragma once
// CHIP's bookkeeping, apart from the weight edit so it can be tested by hand:
// which items are read, which node means are contrasted with which siblings,
// and the sibling-differential direction itself.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "unlearn/request.hpp"

#include <torch/torch.h>

namespace medforget {

struct ChipPlan {
  std::vector<const Item*> items;
  std::vector<bool> is_forget;
  std::map<std::string, std::vector<int64_t>> rows_of_node;  // level and level-below nodes
};

// Items per node of the request level, at most `cap` each (seeded sample),
// and the rows of every node of that level and of the level below.
ChipPlan plan_items(const ForgetRequest& req, int cap, uint64_t seed);

// (node, sibling nodes) pairs whose mean differences give the directions: per
// child of each target (per target at the section level), the children-level
// nodes under the target's parent's other retained children, else every
// retained node of that level.
std::vector<std::pair<std::string, std::vector<std::string>>> chip_contrasts(const ForgetRequest& req,
                                                                               const ChipPlan& p);

// normalise(μ_node − mean_s μ_s) on the selected neurons (μ_node alone without
// siblings); an undefined tensor when the difference vanishes, that is when it
// is below kDirectionRelTol of the larger mean. A vanished difference is
// rounding noise, not a direction: the sections of one study share the study's
// images, so a vision-only layer (the merger) sees the same input for a section
// and its siblings, and normalising their difference would make a random unit
// vector out of float error (measured at `paper` scale: merger differences are
// below 4e-8 of the mean, every real one above 0.02).
inline constexpr double kDirectionRelTol = 1e-4;
torch::Tensor sibling_direction(const torch::Tensor& acts, const ChipPlan& p, const std::string& node,
                                const std::vector<std::string>& siblings, const torch::Tensor& selected,
                                bool use_siblings);

torch::Tensor rows_mean(const torch::Tensor& a, const std::vector<int64_t>& rows);

// How much of each item's (pooled) activation the edit removes, as a share of
// its energy: |Qᵀ a_S|² over |a_S|² (the selected neurons) and over |a|² (the
// whole layer). Zero-out removes all of a_S; no Q removes nothing. This is the
// audit of CHIP's premise that the target lives in a few shared directions.
struct RemovedShare {
  torch::Tensor of_selected, of_layer;  // [n_items]
};
RemovedShare removed_share(const torch::Tensor& acts, const torch::Tensor& selected, const torch::Tensor& Q,
                           bool zero_out);

}  // namespace medforget
