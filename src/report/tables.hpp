#pragma once
// The paper's tables built from a ResultSet: Table 3 (Gen Score, Class Acc,
// Cloze Acc per set, as percentages), the F/R Diff per level (CHIP paper),
// Table 5's generation parts (ROUGE-L, factuality, Gen Score), the
// reconstruction-attack table behind Figure 6 and the MIA table. Rows follow
// ResultSet::entries (vanilla first, levels Institution → Section).
#include "report/results.hpp"
#include "report/table.hpp"

namespace medforget::report {

Table table3(const ResultSet& rs);
// Retain − forget per metric in percentage points, and their mean (missing
// unless all three are present: a mean over fewer metrics is a different number).
Table fr_diff_table(const ResultSet& rs);
// Methods × levels (Section → Institution) of that mean: the CHIP paper's
// F/R Diff table and, with CHIP's ablations as rows, its ablation table.
Table fr_diff_by_level_table(const ResultSet& rs);
Table generation_table(const ResultSet& rs);
Table attack_table(const ResultSet& rs);
Table mia_table(const ResultSet& rs);

}  // namespace medforget::report
