#include "report/tables.hpp"

#include <array>
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

}  // namespace

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
  t.title = "F/R Diff per hierarchy level";
  t.caption =
      "Retain minus forget, in percentage points, for Gen Score, Class Acc and Cloze Acc, and "
      "their "
      "mean (F/R Diff). Higher means more selective forgetting; about 0 for the vanilla model; "
      "negative when retain fell below forget.";
  add_head_columns(t, "Hierarchy");
  t.columns.push_back({"diff_gen_score", "Δ Gen Score", "", false});
  t.columns.push_back({"diff_class_acc", "Δ Class Acc", "", false});
  t.columns.push_back({"diff_cloze_acc", "Δ Cloze Acc", "", false});
  t.columns.push_back({"fr_diff", "F/R Diff", "", false});
  for (const auto& e : rs.entries) {
    if (!e.eval) continue;
    const auto d = fr_diffs(e);
    auto row = head_cells(e);
    for (const auto& v : d) row.push_back(number_cell(v, 2));
    row.push_back(number_cell(fr_mean(d), 2));
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
  t.columns.push_back({"method", "Method", "", false});
  t.columns.push_back({"label", "Label", "", true});
  const Level levels[] = {Level::Section, Level::Study, Level::Patient, Level::Institution};
  for (Level l : levels) t.columns.push_back({level_name(l), level_title(l), "", false});
  // One row per (method, label), in display order; vanilla has no level.
  std::vector<std::pair<std::string, std::string>> keys;
  std::map<std::pair<std::string, std::string>, std::map<Level, Value>> values;
  for (const auto& e : rs.entries) {
    if (!e.eval || !e.level) continue;
    auto k = std::make_pair(e.method, e.label);
    if (!values.count(k)) keys.push_back(k);
    values[k][*e.level] = fr_mean(fr_diffs(e));
  }
  std::map<Level, double> best;
  for (const auto& [k, by_level] : values)
    for (const auto& [l, v] : by_level)
      if (v && (!best.count(l) || *v > best[l])) best[l] = *v;
  for (const auto& k : keys) {
    std::vector<Cell> row = {text_cell(k.second, k.first), text_cell(k.second, k.second)};
    for (Level l : levels) {
      auto it = values[k].find(l);
      Cell c = number_cell(it == values[k].end() ? std::nullopt : it->second, 2);
      c.strong = !c.missing && best.count(l) && *it->second == best[l];
      row.push_back(std::move(c));
    }
    t.rows.push_back(std::move(row));
  }
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
