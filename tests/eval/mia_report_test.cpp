#include "eval/mia_report.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.hpp"

using namespace medforget;
using medforget::test::error_of;
using medforget::test::expect_contains;

namespace {

// Two tokens with mu = -1 everywhere, so z = (logprob + 1) / sigma.
MiaExample ex(const std::string& id, const std::string& set, float a, float b, float sigma_b = 1,
              const std::string& answer = "a") {
  return {id, set, {{a, b}, {-1, -1}, {1, sigma_b}}, answer};
}

// Scores (k = 0.4 keeps floor(0.8) -> 1 token; "a" is 9 zlib bytes, "a"x10 is 11):
//        loss   zlib       min_k  min_k_pp
//   f1   -0.5   -0.5/9     -0.5    0.5
//   f2   -2     -2/11      -3     -1      (z = {0, -2/2})
//   g1   -2     -2/9       -2     -1
//   g2   -2.5   -2.5/9     -4     -3
std::vector<MiaExample> unlearned() {
  return {ex("f1", "forget", -0.5f, -0.5f), ex("f2", "forget", -1, -3, 2, "aaaaaaaaaa"),
          ex("g1", "general", -2, -2), ex("g2", "general", -4, -1)};
}

// The retrained model never saw f1/f2:
//   f1   -2.5   -2.5/9     -2.5   -1.5
//   f2   -3     -3/11      -3     -2
std::vector<MiaExample> retrained() {
  return {ex("g1", "general", -2, -2), ex("f2", "forget", -3, -3, 1, "aaaaaaaaaa"),
          ex("f1", "forget", -2.5f, -2.5f), ex("g2", "general", -4, -1)};
}

}  // namespace

TEST(MiaReport, AucAndTprPerScore) {
  MiaOptions opt;
  opt.fprs = {0.05, 0.5};
  auto r = mia_report(unlearned(), opt);
  EXPECT_EQ(r.n_forget, 2u);
  EXPECT_EQ(r.n_general, 2u);
  // loss: f1 beats both (2), f2 ties g1 (0.5) and beats g2 (1): 3.5/4.
  EXPECT_DOUBLE_EQ(r.auc.loss, 0.875);
  EXPECT_DOUBLE_EQ(r.auc.zlib, 1.0);        // -0.056, -0.18 vs -0.22, -0.28
  EXPECT_DOUBLE_EQ(r.auc.min_k, 0.75);      // f2 = -3 loses to g1 = -2
  EXPECT_DOUBLE_EQ(r.auc.min_k_pp, 0.875);  // f2 ties g1 at -1
  // With 2 non-members, FPR <= 0.05 allows no false positive: only scores
  // above every general item count.
  ASSERT_EQ(r.tpr_at_fpr.size(), 2u);
  EXPECT_DOUBLE_EQ(r.tpr_at_fpr[0].second.loss, 0.5);
  EXPECT_DOUBLE_EQ(r.tpr_at_fpr[0].second.zlib, 1.0);
  EXPECT_DOUBLE_EQ(r.tpr_at_fpr[0].second.min_k, 0.5);
  EXPECT_DOUBLE_EQ(r.tpr_at_fpr[0].second.min_k_pp, 0.5);
  EXPECT_DOUBLE_EQ(r.tpr_at_fpr[1].second.min_k, 1.0);  // one false positive allowed

  Json j = r.to_json();
  EXPECT_EQ(j["n_forget"], 2);
  EXPECT_DOUBLE_EQ(j["auc"]["min_k_pp"].get<double>(), 0.875);
  EXPECT_DOUBLE_EQ(j["tpr_at_fpr_0.05"]["loss"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["tpr_at_fpr_0.5"]["loss"].get<double>(), 1.0);
  EXPECT_FALSE(j.contains("privleak"));
  EXPECT_FALSE(j.contains("forget_quality_ks"));

  auto rows = r.samples_jsonl();
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1]["id"], "f2");
  EXPECT_EQ(rows[1]["set"], "forget");
  EXPECT_EQ(rows[1]["n_tokens"], 2);
  EXPECT_DOUBLE_EQ(rows[1]["loss"].get<double>(), -2.0);
  EXPECT_DOUBLE_EQ(rows[1]["zlib"].get<double>(), -2.0 / 11);
  EXPECT_DOUBLE_EQ(rows[1]["min_k"].get<double>(), -3.0);
  EXPECT_DOUBLE_EQ(rows[1]["min_k_pp"].get<double>(), -1.0);
  EXPECT_NEAR(rows[1]["answer_prob"].get<double>(), std::exp(-2.0), 1e-15);
}

TEST(MiaReport, PrivLeakAndForgetQualityAgainstRetrained) {
  auto r = mia_report(unlearned(), retrained());
  ASSERT_TRUE(r.auc_retrained && r.privleak && r.forget_quality);
  // Retrained AUCs: loss f1 ties g2 (0.5) -> 0.5/4; zlib f1 ties g2, f2 beats
  // g2 -> 1.5/4; min_k and min_k_pp: both beat only g2 -> 2/4.
  EXPECT_DOUBLE_EQ(r.auc_retrained->loss, 0.125);
  EXPECT_DOUBLE_EQ(r.auc_retrained->zlib, 0.375);
  EXPECT_DOUBLE_EQ(r.auc_retrained->min_k, 0.5);
  EXPECT_DOUBLE_EQ(r.auc_retrained->min_k_pp, 0.5);
  // ((1 - AUC_u) - (1 - AUC_r)) / (1 - AUC_r) * 100.
  EXPECT_NEAR(r.privleak->loss, (0.125 - 0.875) / 0.875 * 100, 1e-12);  // -85.71
  EXPECT_NEAR(r.privleak->zlib, -100.0, 1e-12);
  EXPECT_NEAR(r.privleak->min_k, -50.0, 1e-12);
  EXPECT_NEAR(r.privleak->min_k_pp, -75.0, 1e-12);
  // Answer probabilities {e^-0.5, e^-2} vs {e^-2.5, e^-3}: fully apart, D = 1,
  // exact p = 2 / C(4, 2) = 1/3.
  EXPECT_DOUBLE_EQ(r.forget_quality->statistic, 1.0);
  EXPECT_NEAR(r.forget_quality->p_value, 1.0 / 3, 1e-15);

  Json j = r.to_json();
  EXPECT_NEAR(j["privleak"]["min_k"].get<double>(), -50.0, 1e-12);
  EXPECT_NEAR(j["forget_quality_ks"]["p_value"].get<double>(), 1.0 / 3, 1e-15);
  EXPECT_EQ(j["forget_quality_ks"]["method"], "exact");
  EXPECT_DOUBLE_EQ(j["auc_retrained"]["loss"].get<double>(), 0.125);
}

// The retrained model's samples, written and read back, stand in for its examples.
TEST(MiaReport, RetrainedSamplesReadBackGiveTheSameComparison) {
  const auto direct = mia_report(unlearned(), retrained());
  std::vector<MiaSample> back;
  for (const auto& row : mia_report(retrained()).samples_jsonl()) back.push_back(mia_sample_from_json(row));
  const auto via = mia_report(unlearned(), back);
  EXPECT_EQ(via.to_json(), direct.to_json());
  auto dup = back;
  dup[1].id = dup[0].id;
  expect_contains(error_of([&] { mia_report(unlearned(), dup); }),
                  "mia (retrained model): example 'g1': id appears more than once");
  Json row = back[0].to_json();
  row.erase("min_k_pp");
  expect_contains(error_of([&] { mia_sample_from_json(row); }), "mia sample 'g1':");
  expect_contains(error_of([&] { mia_sample_from_json(Json{{"set", "forget"}}); }), "mia sample without an id");
}

TEST(MiaReport, ErrorsNameTheExample) {
  auto bad_set = unlearned();
  bad_set[2].set = "retain";
  expect_contains(error_of([&] { mia_report(bad_set); }),
                  "example 'g1': set is 'retain', expected \"forget\" or \"general\"");
  auto dup = unlearned();
  dup[3].id = "g1";
  expect_contains(error_of([&] { mia_report(dup); }), "example 'g1': id appears more than once");
  auto empty = unlearned();
  empty[1].stats.logprob.clear();
  expect_contains(error_of([&] { mia_report(empty); }),
                  "example 'f2': token stats: no answer tokens");
  auto only_forget = unlearned();
  only_forget.resize(2);
  expect_contains(error_of([&] { mia_report(only_forget); }), "got 2 forget, 0 general");

  auto missing = retrained();
  missing[1].id = "f3";
  expect_contains(error_of([&] { mia_report(unlearned(), missing); }),
                  "forget item 'f2' of the unlearned model is missing from the retrained");
  // A "retrained" model that still separates the forget set perfectly.
  expect_contains(error_of([&] { mia_report(unlearned(), unlearned()); }),
                  "score 'zlib': privleak: AUC of the retrained model is 1");
}
