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
  Json params = Json::object();  // method options, already resolved (defaults filled)
  uint64_t seed = 1;
};

// Returns provenance.json's content.
Json run_unlearn(const UnlearnJob& job);

}  // namespace medforget
