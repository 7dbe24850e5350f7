#pragma once
// Membership-inference report of one model: the four MIA scores of every
// example, the AUC and TPR-at-FPR of each score with the forget set as
// members and the general set as non-members, and, given the retrained
// model's results on the same forget items, PrivLeak and forget quality.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "eval/ks_test.hpp"
#include "eval/mia_scores.hpp"

namespace medforget {

struct MiaExample {
  std::string id;
  std::string set;  // "forget" (members) | "general" (non-members)
  TokenStats stats;
  std::string answer;  // the answer text the tokens spell, for the zlib score
};

// Scores of one example; one JSONL line of the per-sample file.
struct MiaSample {
  std::string id, set;
  size_t n_tokens = 0;
  double answer_prob = 0;  // exp(mean logprob)
  MiaScores scores;
  Json to_json() const;
};

struct MiaOptions {
  double k = kDefaultMinK;                  // Min-K% and Min-K%++ fraction
  std::vector<double> fprs = {0.01, 0.05};  // one "tpr_at_fpr_<fpr>" object each
};

// Score names in report order; the keys of every per-score JSON object.
inline const std::vector<std::string> kMiaScoreNames = {"loss", "zlib", "min_k", "min_k_pp"};
double score_by_name(const MiaScores& s, const std::string& name);

// {"loss": .., "zlib": .., "min_k": .., "min_k_pp": ..}: MiaScores also carries
// one AUC / TPR / PrivLeak per score.
Json scores_json(const MiaScores& s);

struct MiaReport {
  size_t n_forget = 0, n_general = 0;
  MiaScores auc;
  std::vector<std::pair<double, MiaScores>> tpr_at_fpr;  // (fpr, TPR per score)
  std::vector<MiaSample> samples;                        // in input order
  // Present when the retrained model's results were supplied.
  std::optional<MiaScores> auc_retrained;
  std::optional<MiaScores> privleak;
  std::optional<KsResult> forget_quality;
  // {"n_forget", "n_general", "auc": {...}, "tpr_at_fpr_0.05": {...}, ...} and,
  // with a retrained model, "auc_retrained", "privleak" and "forget_quality_ks".
  Json to_json() const;
  std::vector<Json> samples_jsonl() const;
};

// Scores every example; an Error names the example id. Throws when a set name
// is not "forget"/"general", an id repeats, or either set is empty.
MiaReport mia_report(const std::vector<MiaExample>& examples, const MiaOptions& opt = {});

// As above for the unlearned model, plus the comparison with the retrained
// model, whose forget items must be exactly the same ids.
MiaReport mia_report(const std::vector<MiaExample>& unlearned,
                     const std::vector<MiaExample>& retrained, const MiaOptions& opt = {});

// As above with the retrained model already scored (its own `medforget mia`
// samples read back), so that the many unlearned models of one level share a
// single pass of the retrained model instead of repeating it per model.
MiaReport mia_report(const std::vector<MiaExample>& unlearned,
                     const std::vector<MiaSample>& retrained, const MiaOptions& opt = {});

// One line of the per-sample file (MiaSample::to_json) read back; an Error
// names the missing or mistyped field.
MiaSample mia_sample_from_json(const Json& j);

}  // namespace medforget
