#pragma once
// Whether an executed deletion did what the deployment's policy asks, per
// request and per check (docs/DEPLOY.md, "Verification"):
//   forget          the request's items scored by the new version fall by at least
//                   forget_drop_min of the parent version's score (relative)
//   mia             membership-inference AUC, the request's items against never-seen
//                   general items, within mia_auc_max_distance of 0.5 (the worst of
//                   the four scores: loss, zlib, Min-K%, Min-K%++)
//   leakage:<ctx>   the reconstruction attack's Gen score on the request's sections,
//                   with the context of the request's level and of each level above,
//                   at most leakage_max of what the parent version leaked
//   retain, general utility (0-100) within *_tolerance points of the parent's
// A deployment holds no Retrain reference, so forgetting is measured against the
// parent version.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "data/hierarchy.hpp"
#include "data/item.hpp"
#include "deploy/policy.hpp"
#include "eval/evaluator.hpp"

namespace medforget {

// At most n items spread evenly over v (0: all): a sample that covers every institution.
std::vector<Item> spread_items(const std::vector<Item>& v, int n);
// A set's utility, 0-100: the mean of Gen score / 100 and the cloze, classification
// and identity accuracies it has (NaN with none).
double utility(const SetSummary& s);

struct RequestTargets {
  std::string id;
  Level level = Level::Patient;
  std::vector<std::string> nodes;  // in the clear: only in memory, never written
};

// Checks every request of one execution: `parent` and `version` are model
// directories, `forgotten` every node removed up to and including this execution.
std::map<std::string, std::vector<Check>> verify_execution(const std::filesystem::path& bench, const Policy& policy,
                                                           const std::filesystem::path& parent,
                                                           const std::filesystem::path& version,
                                                           const std::vector<RequestTargets>& requests,
                                                           const std::vector<std::string>& forgotten,
                                                           const std::string& device);

}  // namespace medforget
