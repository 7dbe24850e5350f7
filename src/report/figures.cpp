#include "report/figures.hpp"

#include <functional>

namespace medforget::report {

namespace {

const std::vector<std::pair<std::string, std::string>>& fixed_colors() {
  static const std::vector<std::pair<std::string, std::string>> k{
      {"manu", "#ff7f0e"},    {"graddiff", "#2ca02c"}, {"kl_min", "#8c564b"},
      {"npo", "#9467bd"},     {"chip", "#d62728"},     {"mip_editor", "#17becf"},
      {"retrain", "#7f7f7f"}, {"vanilla", "#333333"}};
  return k;
}

std::string label_of(const ResultSet& rs, const std::string& method) {
  for (const auto& e : rs.entries)
    if (e.method == method) return e.label;
  return method_default_label(method);
}

// Methods drawn as series: every method with data of this kind and a level,
// except vanilla, which is the dashed reference.
std::vector<std::string> series_methods(const ResultSet& rs,
                                        const std::function<bool(const Entry&)>& has) {
  std::vector<std::string> out;
  for (const auto& m : rs.methods()) {
    if (m == "vanilla") continue;
    for (const auto& e : rs.entries)
      if (e.method == m && e.level && has(e)) {
        out.push_back(m);
        break;
      }
  }
  return out;
}

// Vanilla at a level if it was evaluated there, else its level-free run.
std::optional<double> vanilla_value(const ResultSet& rs, Level l,
                                    const std::function<Value(const Entry&)>& get) {
  if (const Entry* e = rs.find("vanilla", l)) {
    if (auto v = get(*e)) return v;
  }
  if (const Entry* e = rs.find("vanilla", std::nullopt)) return get(*e);
  return std::nullopt;
}

Value set_metric(const Entry& e, SetKind s, Fig5Metric m) {
  if (!e.eval || !(*e.eval)[s]) return std::nullopt;
  const SetMetrics& x = *(*e.eval)[s];
  switch (m) {
    case Fig5Metric::GenScore:
      return x.gen_score;
    case Fig5Metric::ClassAcc:
      return x.class_acc ? Value(*x.class_acc * 100) : std::nullopt;
    case Fig5Metric::ClozeAcc:
      return x.cloze_acc ? Value(*x.cloze_acc * 100) : std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::string method_color(const ResultSet& rs, const std::string& method) {
  for (const auto& [k, c] : fixed_colors())
    if (k == method) return c;
  // The palette's colours no known method owns, then the light shades of the
  // same family: a grid with many variants (chip_k50_all, npo_rt, ...) gets a
  // distinct colour per series up to 13 of them before any repeats.
  static const std::vector<std::string> light{"#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
                                              "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5"};
  std::vector<std::string> spare;
  for (const auto& c : palette()) {
    bool used = false;
    for (const auto& [k, fc] : fixed_colors()) used = used || fc == c;
    if (!used) spare.push_back(c);
  }
  spare.insert(spare.end(), light.begin(), light.end());
  size_t i = 0;
  for (const auto& m : rs.methods()) {
    if (m == method) break;
    bool fixed = false;
    for (const auto& [k, fc] : fixed_colors()) fixed = fixed || k == m;
    if (!fixed) ++i;
  }
  return spare[i % spare.size()];
}

std::string fig5_name(Fig5Metric m) {
  switch (m) {
    case Fig5Metric::GenScore:
      return "fig5_gen_score";
    case Fig5Metric::ClassAcc:
      return "fig5_class_acc";
    case Fig5Metric::ClozeAcc:
      return "fig5_cloze_acc";
  }
  return "fig5";
}

std::string fig5_title(Fig5Metric m) {
  switch (m) {
    case Fig5Metric::GenScore:
      return "Gen Score";
    case Fig5Metric::ClassAcc:
      return "Class Acc";
    case Fig5Metric::ClozeAcc:
      return "Cloze Acc";
  }
  return "";
}

Chart figure5(const ResultSet& rs, Fig5Metric metric) {
  Chart c;
  c.kind = ChartKind::Bars;
  c.title = "Figure 5. " + fig5_title(metric) + " across hierarchy levels";
  c.y_label = fig5_title(metric) + (metric == Fig5Metric::GenScore ? " (0–100)" : " (%)");
  c.x_label = "Unlearning level";
  c.reference_label = label_of(rs, "vanilla");
  c.y_max = 100;  // every metric is a percentage; one scale keeps the charts comparable
  const auto methods = series_methods(rs, [](const Entry& e) { return e.eval.has_value(); });
  for (SetKind s : all_sets()) {
    Panel p;
    p.title = set_title(s);
    for (Level l : all_levels()) p.categories.push_back(level_short(l));
    for (const auto& m : methods) {
      Series ser{label_of(rs, m), method_color(rs, m), {}};
      for (Level l : all_levels()) {
        const Entry* e = rs.find(m, l);
        ser.values.push_back(e ? set_metric(*e, s, metric) : std::nullopt);
      }
      p.series.push_back(std::move(ser));
    }
    bool any_ref = false;
    for (Level l : all_levels()) {
      p.reference.push_back(
          vanilla_value(rs, l, [&](const Entry& e) { return set_metric(e, s, metric); }));
      any_ref = any_ref || p.reference.back();
    }
    if (!any_ref) p.reference.clear();
    c.panels.push_back(std::move(p));
  }
  return c;
}

Chart figure6(const ResultSet& rs) {
  Chart c;
  c.kind = ChartKind::Lines;
  c.title =
      "Figure 6. Section-level leakage across unlearning granularities with hierarchical prompts";
  c.y_label = "Leaked Gen Score";
  c.x_label = "Unlearning level";
  c.reference_label = label_of(rs, "vanilla");
  // Finest to coarsest, as in the paper: leakage should fall left to right.
  const std::vector<Level> levels{Level::Section, Level::Study, Level::Patient, Level::Institution};
  const auto methods = series_methods(rs, [](const Entry& e) { return e.attack.has_value(); });
  for (Context ctx : all_contexts()) {
    auto get = [ctx](const Entry& e) -> Value {
      if (!e.attack || !(*e.attack)[ctx]) return std::nullopt;
      return (*e.attack)[ctx]->gen_score;
    };
    Panel p;
    p.title = context_title(ctx);
    for (Level l : levels) p.categories.push_back(level_short(l));
    for (const auto& m : methods) {
      Series ser{label_of(rs, m), method_color(rs, m), {}};
      for (Level l : levels) {
        const Entry* e = rs.find(m, l);
        ser.values.push_back(e ? get(*e) : std::nullopt);
      }
      p.series.push_back(std::move(ser));
    }
    bool any_ref = false;
    for (Level l : levels) {
      p.reference.push_back(vanilla_value(rs, l, get));
      any_ref = any_ref || p.reference.back();
    }
    if (!any_ref) p.reference.clear();
    c.panels.push_back(std::move(p));
  }
  return c;
}

}  // namespace medforget::report
