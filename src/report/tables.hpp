#pragma once
// The paper's tables built from a ResultSet: Table 3 (Gen Score, Class Acc,
// Cloze Acc per set, as percentages), the F/R Diff per level (CHIP paper),
// the distance to Retrain on the forget set beside it, Table 5's generation
// parts (ROUGE-L, factuality, Gen Score), the
// reconstruction-attack table behind Figure 6 and the MIA table. Rows follow
// ResultSet::entries (vanilla first, levels Institution → Section).
#include <array>

#include "report/results.hpp"
#include "report/table.hpp"

namespace medforget::report {

Table table3(const ResultSet& rs);

// How far a model's forget-set results are from those of Retrain (the model
// trained without the forget data) at one level, in percentage points:
// |forget[m](model) − forget[m](Retrain)| for Gen Score, Class Acc and Cloze
// Acc, and their mean (missing unless all three are present). Lower is closer
// to the model that never saw the data; F/R Diff alone rewards forgetting past
// it. Every value is missing when the set has no Retrain eval at that level.
struct RetrainDistance {
  std::array<Value, 3> per_metric;  // Gen Score, Class Acc, Cloze Acc
  Value mean;
};
RetrainDistance retrain_distance(const ResultSet& rs, const Entry& e, Level level);

// Retain − forget per metric in percentage points, and their mean (missing
// unless all three are present: a mean over fewer metrics is a different
// number), then the distance to Retrain at the row's level per metric and its
// mean. Vanilla has no level: it is compared with Retrain when the set has
// Retrain at one level only (its distance at each level is in
// retrain_distance_by_level_table).
Table fr_diff_table(const ResultSet& rs);
// Methods × levels (Section → Institution) of that mean: the CHIP paper's
// F/R Diff table and, with CHIP's ablations as rows, its ablation table.
Table fr_diff_by_level_table(const ResultSet& rs);
// Methods × levels of the mean distance to Retrain, Vanilla and Retrain (0)
// included; the lowest of each level among the unlearning methods in bold.
Table retrain_distance_by_level_table(const ResultSet& rs);
Table generation_table(const ResultSet& rs);
Table attack_table(const ResultSet& rs);
Table mia_table(const ResultSet& rs);

}  // namespace medforget::report
