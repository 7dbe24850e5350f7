#pragma once
// The sequential-unlearning study: patient-level deletion requests executed one
// after another through a deployment (deploy/execute.hpp), each method in a
// deployment of its own, then the same requests as one batch. After every step
// the current version is scored on every request forgotten so far (does a
// forgotten patient come back after later edits?), on retained and on general
// items, and by membership inference on everything forgotten so far.
//
//   OUT/<method>/sequential/, OUT/<method>/batch/   the deployments (ledger, versions, certificates)
//   OUT/study.json   every step's measures
//   OUT/study.md     the table
//   OUT/study.svg    the figure: utility on earlier requests, retain, general and MIA per step
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace medforget {

struct StudyOptions {
  std::filesystem::path model, bench, out;
  size_t requests = 16;
  std::vector<std::string> methods = {"chip", "graddiff", "npo"};
  std::map<std::string, std::vector<std::string>> method_opts;  // per method, key=value
  int eval_items = 48;      // items per set (evenly spread)
  int max_new_tokens = 64;
  std::string device = "cpu";
  bool batch = true;        // also the batch deployment per method
};

// The patients a study forgets: round-robin over institutions, never every
// patient of one (each needs a retained sibling). An Error when the benchmark
// has fewer such patients than asked for.
std::vector<std::string> study_patients(const std::filesystem::path& bench, size_t n);

// Runs the study; returns study.json's content.
Json run_sequential_study(const StudyOptions& opt);

}  // namespace medforget
