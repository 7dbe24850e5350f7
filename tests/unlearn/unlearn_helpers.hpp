#pragma once
// What the unlearning tests measure on an unlearned tiny model: eval summaries,
// answer likelihoods and checkpoint tensors.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <string>

#include "core/json.hpp"
#include "model/checkpoint.hpp"
#include "model/safetensors.hpp"
#include "test_util.hpp"

namespace medforget::test {

// Mean over a set's items of the reference answer's mean token log-probability.
inline double mean_answer_logprob(const std::filesystem::path& jsonl) {
  double s = 0;
  size_t n = 0;
  for (const auto& j : read_jsonl(jsonl)) s += j.at("answer_mean_logprob").get<double>(), ++n;
  return n ? s / static_cast<double>(n) : 0;
}

// Evaluates the patient level's forget and retain sets; returns summary "sets".
inline Json eval_sets(const std::filesystem::path& model, const std::filesystem::path& bench,
                      const std::filesystem::path& out) {
  auto r = run_cli("eval --model " + model.string() + " --bench " + bench.string() +
                   " --level patient --sets forget,retain --out " + out.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return read_json(out / "summary.json").at("sets");
}

inline torch::Tensor tensor_of(const std::map<std::string, RawTensor>& t, const std::string& name) {
  auto it = t.find(name);
  if (it == t.end()) {
    ADD_FAILURE() << "no tensor " << name;
    return torch::zeros({1});
  }
  return to_torch(it->second);
}

}  // namespace medforget::test
