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

// Whether every item of `node` and of `siblings` (at least one) shows one and
// the same image (a section and the other sections of its study). A vision-only Linear (the
// merger) then computes the same activations for all of them: their means are
// equal, and any difference between them is rounding, on any kernels and at any
// precision, so CHIP takes no direction there.
bool shows_one_image(const ChipPlan& p, const std::string& node, const std::vector<std::string>& siblings);

// The siblings' mean activation: the mean of their node means (each sibling
// node weighs alike: medforget's CHIP) or the mean over all their items pooled
// (a sibling with more items weighs more: the authors' reference code). The
// two agree when every sibling has as many items as every other.
enum class SiblingMean { OfNodes, OfItems };
torch::Tensor sibling_mean(const torch::Tensor& acts, const ChipPlan& p, const std::vector<std::string>& siblings,
                           SiblingMean how);

// normalise(μ_node − μ_siblings) on the selected neurons (μ_node alone without
// siblings, where this check cannot drop it); an undefined tensor when the
// difference vanishes: below kDirectionRelTol of the larger mean's norm. A
// vanished difference is rounding noise, and normalising it would make a random
// unit vector (measured at `paper` scale in float32 on the CPU: the merger's
// section-level differences are below 4e-8 of the mean, every real difference
// above 0.02). The tolerance is a guard for float32; shows_one_image is the rule
// that holds at any precision.
inline constexpr double kDirectionRelTol = 1e-4;
torch::Tensor sibling_direction(const torch::Tensor& acts, const ChipPlan& p, const std::string& node,
                                const std::vector<std::string>& siblings, const torch::Tensor& selected,
                                bool use_siblings, SiblingMean how = SiblingMean::OfNodes);

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
