#pragma once
// Executes one deletion request with one method and writes the unlearned
// checkpoint with its provenance (what was asked, how, on which model, by
// whom and how long it took) inside the checkpoint's digest.
#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace medforget {

struct UnlearnJob {
  std::filesystem::path model, bench, out, dump;
  std::string level, method, device = "cpu";
  std::string dtype;  // bf16 | fp16 | fp32; "" = the default for the model and device
  std::string name;  // variant name (e.g. chip_no_siblings) that reports key results by; default: method
  std::vector<std::string> targets;
  std::vector<std::string> forgotten;  // nodes earlier requests removed: kept out of the retain set
  // What provenance and the manifest record for `targets` (same length; empty: the
  // ids). A deployment records keyed hashes, so a version never names a patient.
  std::vector<std::string> recorded_targets;
  Json extra_provenance;  // merged into provenance.json (a deployment's parent version and requests)
  Json params = Json::object();  // method options, already resolved (defaults filled)
  uint64_t seed = 1;
};

// Returns provenance.json's content.
Json run_unlearn(const UnlearnJob& job);

}  // namespace medforget
