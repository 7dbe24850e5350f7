#include <gtest/gtest.h>

#include "eval/exact_match.hpp"
#include "eval/rouge.hpp"

using namespace medforget;

TEST(RougeL, HandWorkedExamples) {
  // LCS "the cat on the mat" = 5; P = 5/5, R = 5/6, F = 10/11.
  auto s = rouge_l("the cat sat on the mat", "the cat on the mat");
  EXPECT_DOUBLE_EQ(s.precision, 1.0);
  EXPECT_DOUBLE_EQ(s.recall, 5.0 / 6.0);
  EXPECT_NEAR(s.f, 10.0 / 11.0, 1e-12);
  // LCS "pleural effusion" = 2; P = 2/4, R = 2/3, F = 4/7.
  EXPECT_NEAR(rouge_l("No pleural effusion.", "Small left pleural effusion.").f, 4.0 / 7.0, 1e-12);
  // Case and punctuation do not count; hyphens split tokens as in rouge-score.
  EXPECT_DOUBLE_EQ(rouge_l("Heart-size NORMAL.", "heart size normal").f, 1.0);
  EXPECT_EQ(rouge_tokenize("ET tube 4.5 cm"), (std::vector<std::string>{"et", "tube", "4", "5", "cm"}));
  // Order matters: LCS of reversed 3-token text is 1.
  EXPECT_NEAR(rouge_l("a b c", "c b a").f, 1.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(rouge_l("", "anything").f, 0.0);
  EXPECT_DOUBLE_EQ(rouge_l("something", "...").f, 0.0);
}

TEST(ExactMatch, NormalisesCaseSpacePunctuation) {
  EXPECT_TRUE(exact_match("PA and lateral", "  pa   AND lateral. "));
  EXPECT_TRUE(exact_match("Elm Medical Foundation", "elm medical foundation"));
  EXPECT_FALSE(exact_match("left", "right"));
  EXPECT_FALSE(exact_match("pleural effusion", "effusion"));
  EXPECT_EQ(normalize_answer("\"Small\"!"), "small");
}
