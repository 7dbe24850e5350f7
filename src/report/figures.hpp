#pragma once
// The paper's figures as charts: Figure 5 (one chart per metric, panels
// Forget / Retain / Forget Rephrase / General Med, x = hierarchy level, bars =
// methods, dashed line = vanilla) and Figure 6 (panels = attack context,
// x = unlearning level Sec. → Inst., one line per method, y = leaked Gen Score).
#include <string>

#include "report/results.hpp"
#include "report/svg.hpp"

namespace medforget::report {

enum class Fig5Metric { GenScore, ClassAcc, ClozeAcc };
std::string fig5_name(Fig5Metric m);   // "fig5_gen_score", ...
std::string fig5_title(Fig5Metric m);  // "Gen Score", ...

Chart figure5(const ResultSet& rs, Fig5Metric metric);
Chart figure6(const ResultSet& rs);

// Fixed colour per known method (Figure 6's: MANU orange, GradDiff green,
// KL Min brown, NPO purple); other methods (the grid's variants) take the
// unused palette colours, then light shades, in display order: 13 distinct.
std::string method_color(const ResultSet& rs, const std::string& method);

}  // namespace medforget::report
