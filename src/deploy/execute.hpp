#pragma once
// Executing a deployment's approved deletion requests and verifying them.
//
// An execution unlearns from the current version into a new one
// (versions/vNNNN, its provenance naming its parent version and its requests by
// id and keyed target hash), then checks every request it applied against the
// deployment's policy (deploy/verify.hpp) and writes its certificate.
//
// The ledger is the record of what happened, in this order:
//   execute   {version, parent, requests, method, mode, params, by}   before any work
//   executed  {version, parent, requests, model_digest, parent_digest} after the version is in place
//   verify    {version, verdict, checks}                                one per request
// A process killed before `executed` leaves its requests "executing" and at most
// a version directory no entry names: the next execution (under the deployment's
// lock, so no execution is running) removes that directory and applies the
// requests again from the current version. One killed after `executed` leaves
// them "executed": the next execution verifies them first. A request is never
// recorded as applied to a version that does not hold it.
#include <string>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "deploy/deployment.hpp"

namespace medforget {

struct ExecuteOptions {
  std::string method = "chip";
  std::string mode = "sequential";      // sequential: a version per request; batch: one version for all
  std::string by;                       // the executing principal
  std::vector<std::string> method_opts;  // key=value, as `unlearn --opt`
  std::string device = "cpu";
  uint64_t seed = 1;
};

struct ExecutionOutcome {
  std::string version, parent;          // "" version when the unlearning itself failed
  std::vector<std::string> requests;
  std::vector<std::pair<std::string, std::string>> verdicts;  // (request, verified | failed)
  std::string error;                    // why the unlearning failed
};

// Applies every approved request (and finishes interrupted ones). Throws when
// another execution holds the deployment, the benchmark changed, or the
// options are wrong; a request whose unlearning fails is recorded failed and
// the others go on.
std::vector<ExecutionOutcome> execute_requests(const Deployment& d, const ExecuteOptions& opt);

// A deployment's model versions as the ledger records them, oldest first.
struct ModelVersion {
  std::string name, parent, model_digest, time;
  std::vector<std::string> requests;
  bool pruned = false;
};
std::vector<ModelVersion> versions_of(const std::vector<LedgerEntry>& entries);
std::string current_version(const std::vector<LedgerEntry>& entries);

// Removes every version but the current one and the `keep` before it; recorded
// in the ledger (names and digests). Returns the removed versions' names.
std::vector<std::string> prune_versions(const Deployment& d, size_t keep, const std::string& by);

}  // namespace medforget
