#include "report/tables.hpp"

#include <array>
#include <cmath>
#include <map>

namespace medforget::report {

namespace {

// ↓: lower is better (forgetting), ↑: higher is better (utility), as in the paper.
std::string set_group(SetKind s) {
  bool forget = s == SetKind::Forget || s == SetKind::ForgetRephrase;
  return set_title(s) + (forget ? " ↓" : " ↑");
}

void add_head_columns(Table& t, const std::string& level_title_text) {
  t.columns.push_back({"method", "Method", "", false});
  t.columns.push_back({"label", "Label", "", true});
  t.columns.push_back({"level", level_title_text, "", false});
}

std::vector<Cell> head_cells(const Entry& e) {
  return {text_cell(e.label, e.method), text_cell(e.label, e.label),
          e.level ? text_cell(level_title(*e.level), level_name(*e.level))
                  : text_cell(kNoLevelText, "")};
}

const SetMetrics* set_of(const Entry& e, SetKind s) {
  if (!e.eval) return nullptr;
  const auto& m = (*e.eval)[s];
  return m ? &*m : nullptr;
}

Value gen(const SetMetrics* m) { return m ? m->gen_score : std::nullopt; }
Value cls(const SetMetrics* m) {
  return m && m->class_acc ? Value(*m->class_acc * 100) : std::nullopt;
}
Value clz(const SetMetrics* m) {
  return m && m->cloze_acc ? Value(*m->cloze_acc * 100) : std::nullopt;
}

Value diff(Value retain, Value forget) {
  return retain && forget ? Value(*retain - *forget) : std::nullopt;
}

// Retain − forget for Gen Score, Class Acc and Cloze Acc.
std::array<Value, 3> fr_diffs(const Entry& e) {
  const SetMetrics* f = set_of(e, SetKind::Forget);
  const SetMetrics* r = set_of(e, SetKind::Retain);
  return {diff(gen(r), gen(f)), diff(cls(r), cls(f)), diff(clz(r), clz(f))};
}

Value fr_mean(const std::array<Value, 3>& d) {
  return d[0] && d[1] && d[2] ? Value((*d[0] + *d[1] + *d[2]) / 3.0) : std::nullopt;
}

const char* kRetrain = "retrain";

bool is_reference(const std::string& method) { return method == "vanilla" || method == kRetrain; }

// The levels that have a Retrain eval, Institution → Section.
std::vector<Level> retrain_levels(const ResultSet& rs) {
  std::vector<Level> out;
  for (const auto& e : rs.entries)
    if (e.method == kRetrain && e.level && e.eval) out.push_back(*e.level);
  return out;
}

// The level a row of the per-entry table is compared at: its own, or for an
// entry without one (vanilla) the only level that has Retrain.
std::optional<Level> reference_level(const ResultSet& rs, const Entry& e) {
  if (e.level) return e.level;
  auto levels = retrain_levels(rs);
  return levels.size() == 1 ? std::optional<Level>(levels[0]) : std::nullopt;
}

// Pivot rows: one per (method, label) in display order, levels Section → Institution.
const Level kPivotLevels[] = {Level::Section, Level::Study, Level::Patient, Level::Institution};

void add_pivot_head_columns(Table& t) {
  t.columns.push_back({"method", "Method", "", false});
  t.columns.push_back({"label", "Label", "", true});
  for (Level l : kPivotLevels) t.columns.push_back({level_name(l), level_title(l), "", false});
}

using PivotKey = std::pair<std::string, std::string>;  // (method, label)
using PivotValues = std::map<PivotKey, std::map<Level, Value>>;

// One row per key, in the given order, a cell per level; the best value of each
// level in bold (the highest, or the lowest when `lower_is_better`). With
// `rank_references` false, Vanilla and Retrain are shown but neither compete nor bold.
void add_pivot_rows(Table& t, const std::vector<PivotKey>& keys, const PivotValues& values, bool lower_is_better,
                    bool rank_references) {
  auto ranked = [&](const std::string& method) { return rank_references || !is_reference(method); };
  std::map<Level, double> best;
  for (const auto& [k, by_level] : values) {
    if (!ranked(k.first)) continue;
    for (const auto& [l, v] : by_level)
      if (v && (!best.count(l) || (lower_is_better ? *v < best[l] : *v > best[l]))) best[l] = *v;
  }
  for (const auto& k : keys) {
    std::vector<Cell> row = {text_cell(k.second, k.first), text_cell(k.second, k.second)};
    const auto& by_level = values.at(k);
    for (Level l : kPivotLevels) {
      auto it = by_level.find(l);
      Cell c = number_cell(it == by_level.end() ? std::nullopt : it->second, 2);
      c.strong = !c.missing && ranked(k.first) && best.count(l) && *it->second == best[l];
      row.push_back(std::move(c));
    }
    t.rows.push_back(std::move(row));
  }
}

}  // namespace

RetrainDistance retrain_distance(const ResultSet& rs, const Entry& e, Level level) {
  RetrainDistance d;
  const Entry* r = rs.find(kRetrain, level);
  if (!r || !r->eval) return d;
  const SetMetrics* f = set_of(e, SetKind::Forget);
  const SetMetrics* rf = set_of(*r, SetKind::Forget);
  auto dist = [](Value a, Value b) {
    return a && b ? Value(std::abs(*a - *b)) : std::nullopt;
  };
  d.per_metric = {dist(gen(f), gen(rf)), dist(cls(f), cls(rf)), dist(clz(f), clz(rf))};
  d.mean = fr_mean(d.per_metric);
  return d;
}

Table table3(const ResultSet& rs) {
  Table t;
  t.name = "table3";
  t.title = "Table 3. Generation and reasoning performance across hierarchical unlearning splits";
  t.caption =
      "Gen Score (0–100), Class Acc and Cloze Acc in percent. ↓: lower is better for unlearning "
      "(forget and its rephrase set); ↑: higher is better for utility (retain and general sets). "
      "– marks a value that was not measured.";
  add_head_columns(t, "Hierarchy");
  for (SetKind s : all_sets()) {
    t.columns.push_back({set_key(s) + "_gen_score", "Gen Score", set_group(s), false});
    t.columns.push_back({set_key(s) + "_class_acc", "Class Acc", set_group(s), false});
    t.columns.push_back({set_key(s) + "_cloze_acc", "Cloze Acc", set_group(s), false});
  }
  for (const auto& e : rs.entries) {
    if (!e.eval) continue;
    auto row = head_cells(e);
    for (SetKind s : all_sets()) {
      const SetMetrics* m = set_of(e, s);
      row.push_back(number_cell(gen(m), 2));
      row.push_back(number_cell(cls(m), 2));
      row.push_back(number_cell(clz(m), 2));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table fr_diff_table(const ResultSet& rs) {
  Table t;
  t.name = "fr_diff";
  t.title = "F/R Diff and distance to Retrain per hierarchy level";
  t.caption =
      "Retain minus forget, in percentage points, for Gen Score, Class Acc and Cloze Acc, and "
      "their mean (F/R Diff). Higher means more selective forgetting; about 0 for the vanilla "
      "model; negative when retain fell below forget. F/R Diff also grows when a method forgets "
      "past the model that never saw the data, so ΔRetrain gives, per metric and as their mean, "
      "the absolute forget-set difference from Retrain at the same level (percentage points; "
      "lower is closer, 0 for Retrain itself; – when that level has no Retrain). Vanilla is "
      "compared with Retrain when the run has Retrain at one level only.";
  add_head_columns(t, "Hierarchy");
  t.columns.push_back({"diff_gen_score", "Δ Gen Score", "", false});
  t.columns.push_back({"diff_class_acc", "Δ Class Acc", "", false});
  t.columns.push_back({"diff_cloze_acc", "Δ Cloze Acc", "", false});
  t.columns.push_back({"fr_diff", "F/R Diff", "", false});
  t.columns.push_back({"retrain_dist_gen_score", "ΔRetrain Gen", "", false});
  t.columns.push_back({"retrain_dist_class_acc", "ΔRetrain Class", "", false});
  t.columns.push_back({"retrain_dist_cloze_acc", "ΔRetrain Cloze", "", false});
  t.columns.push_back({"retrain_dist", "ΔRetrain", "", false});
  for (const auto& e : rs.entries) {
    if (!e.eval) continue;
    const auto d = fr_diffs(e);
    auto row = head_cells(e);
    for (const auto& v : d) row.push_back(number_cell(v, 2));
    row.push_back(number_cell(fr_mean(d), 2));
    const auto level = reference_level(rs, e);
    const RetrainDistance r = level ? retrain_distance(rs, e, *level) : RetrainDistance{};
    for (const auto& v : r.per_metric) row.push_back(number_cell(v, 2));
    row.push_back(number_cell(r.mean, 2));
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table fr_diff_by_level_table(const ResultSet& rs) {
  Table t;
  t.name = "fr_diff_by_level";
  t.title = "F/R Diff by method and unlearning level";
  t.caption =
      "The mean F/R Diff (retain minus forget over Gen Score, Class Acc and Cloze Acc) of each "
      "method at each level, finest level first as in the CHIP paper; the best of each level in "
      "bold. CHIP's ablations are rows of their own.";
  add_pivot_head_columns(t);
  // One row per (method, label), in display order; vanilla has no level.
  std::vector<PivotKey> keys;
  PivotValues values;
  for (const auto& e : rs.entries) {
    if (!e.eval || !e.level) continue;
    auto k = std::make_pair(e.method, e.label);
    if (!values.count(k)) keys.push_back(k);
    values[k][*e.level] = fr_mean(fr_diffs(e));
  }
  add_pivot_rows(t, keys, values, false, true);
  return t;
}

Table retrain_distance_by_level_table(const ResultSet& rs) {
  Table t;
  t.name = "retrain_distance_by_level";
  t.title = "Distance to Retrain by method and unlearning level";
  t.caption =
      "The mean absolute difference from Retrain (the model trained without the forget data) on "
      "the forget set over Gen Score, Class Acc and Cloze Acc, in percentage points, finest level "
      "first. Lower is closer to the model that never saw the data: unlike F/R Diff it does not "
      "reward forgetting past it. Retrain is 0 by definition; Vanilla shows how far the model "
      "before unlearning is; – where that level has no Retrain. The lowest of each level among "
      "the unlearning methods in bold.";
  add_pivot_head_columns(t);
  std::vector<PivotKey> keys;  // each (method, label) once, in display order
  PivotValues values;
  for (const auto& e : rs.entries) {
    if (!e.eval) continue;
    auto k = std::make_pair(e.method, e.label);
    if (!values.count(k)) keys.push_back(k);
    auto& by_level = values[k];
    if (e.level) {
      by_level[*e.level] = retrain_distance(rs, e, *e.level).mean;
    } else {  // vanilla: compared with Retrain at every level
      for (Level l : kPivotLevels) by_level[l] = retrain_distance(rs, e, l).mean;
    }
  }
  add_pivot_rows(t, keys, values, true, false);
  return t;
}

Table generation_table(const ResultSet& rs) {
  Table t;
  t.name = "generation";
  t.title = "Table 5. Generation quality across hierarchical unlearning splits";
  t.caption =
      "The parts of the Gen Score: ROUGE-L in percent and clinical factuality (rule-based or the "
      "LLM judge, docs/METRICS.md) on its 1–10 scale, next to the Gen Score (0–100).";
  add_head_columns(t, "Hierarchy");
  for (SetKind s : all_sets()) {
    t.columns.push_back({set_key(s) + "_rouge_l", "ROUGE-L", set_group(s), false});
    t.columns.push_back({set_key(s) + "_factuality", "Fact.", set_group(s), false});
    t.columns.push_back({set_key(s) + "_gen_score", "Gen Score", set_group(s), false});
  }
  for (const auto& e : rs.entries) {
    if (!e.eval) continue;
    auto row = head_cells(e);
    for (SetKind s : all_sets()) {
      const SetMetrics* m = set_of(e, s);
      row.push_back(number_cell(m ? m->rouge_l : std::nullopt, 2, 100.0));
      row.push_back(number_cell(m ? m->factuality : std::nullopt, 2));
      row.push_back(number_cell(gen(m), 2));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table attack_table(const ResultSet& rs) {
  Table t;
  t.name = "attack";
  t.title = "Hierarchical reconstruction attack: leaked Section-level Gen Score";
  t.caption =
      "Gen Score of the regenerated Section content when the prompt carries increasingly specific "
      "hierarchical identifiers (paper Table 6), per unlearning level. Higher means more leakage.";
  add_head_columns(t, "Unlearning level");
  for (Context c : all_contexts())
    t.columns.push_back({context_key(c) + "_gen_score", context_title(c), "Context ↓", false});
  for (const auto& e : rs.entries) {
    if (!e.attack) continue;
    auto row = head_cells(e);
    for (Context c : all_contexts()) {
      const auto& a = (*e.attack)[c];
      row.push_back(number_cell(a ? a->gen_score : std::nullopt, 2));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

Table mia_table(const ResultSet& rs) {
  Table t;
  t.name = "mia";
  t.title = "Membership inference on the forget set";
  t.caption =
      "ROC AUC of telling forget items from general (never trained) items by each score: about 0.5 "
      "means the forget set looks unseen. PrivLeak is as reported by the MIA stage (about 0 is "
      "best); the KS p-value compares the forget-set score distribution with the reference (higher "
      "is better forget quality).";
  add_head_columns(t, "Hierarchy");
  t.columns.push_back({"n_forget", "n forget", "", false});
  t.columns.push_back({"n_general", "n general", "", false});
  for (const auto& k : mia_score_keys())
    t.columns.push_back({"auc_" + k, mia_score_title(k), "AUC", false});
  for (const auto& k : mia_score_keys())
    t.columns.push_back({"privleak_" + k, mia_score_title(k), "PrivLeak", false});
  t.columns.push_back({"ks_p_value", "KS p-value", "", false});
  for (const auto& e : rs.entries) {
    if (!e.mia) continue;
    const MiaResult& m = *e.mia;
    auto row = head_cells(e);
    row.push_back(count_cell(m.n_forget));
    row.push_back(count_cell(m.n_general));
    auto get = [](const std::map<std::string, Value>& by, const std::string& k) {
      auto it = by.find(k);
      return it == by.end() ? Value() : it->second;
    };
    for (const auto& k : mia_score_keys()) row.push_back(number_cell(get(m.auc, k), 3));
    for (const auto& k : mia_score_keys()) row.push_back(number_cell(get(m.privleak, k), 2));
    if (m.ks_p_value) {
      std::string s = format_sig(*m.ks_p_value, 3);
      row.push_back({s, s, true, false});
    } else {
      row.push_back(number_cell(std::nullopt, 0));
    }
    t.rows.push_back(std::move(row));
  }
  return t;
}

}  // namespace medforget::report
