#include "report/svg.hpp"

#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "report/figures.hpp"
#include "report/markup_check.hpp"
#include "report/report_fixtures.hpp"
#include "test_util.hpp"

using namespace medforget;
using namespace medforget::report;
using medforget::test::expect_contains;
using medforget::test::markup_problem;
using medforget::test::TempDir;

namespace {

using Attrs = std::map<std::string, std::string>;

// Attributes of every element whose text starts with `start` (e.g. `<rect class="bar"`).
std::vector<Attrs> elements(const std::string& doc, const std::string& start) {
  std::vector<Attrs> out;
  static const std::regex attr(R"(([a-zA-Z][\w-]*)="([^"]*)\")");
  for (size_t i = doc.find(start); i != std::string::npos; i = doc.find(start, i + 1)) {
    std::string tag = doc.substr(i, doc.find('>', i) - i);
    Attrs a;
    for (std::sregex_iterator it(tag.begin(), tag.end(), attr), end; it != end; ++it)
      a[(*it)[1]] = (*it)[2];
    out.push_back(a);
  }
  return out;
}

std::vector<std::string> panels_of(const std::string& svg) {
  std::vector<std::string> out;
  for (size_t i = svg.find("<g class=\"panel\""); i != std::string::npos;) {
    size_t e = svg.find("</g>", i);
    out.push_back(svg.substr(i, e - i));
    i = svg.find("<g class=\"panel\"", e);
  }
  return out;
}

double num(const Attrs& a, const std::string& k) { return std::stod(a.at(k)); }

Chart bar_chart() {
  Chart c;
  c.kind = ChartKind::Bars;
  c.title = "Bars";
  c.y_label = "Score";
  for (int p = 0; p < 2; ++p) {
    Panel panel;
    panel.title = "Panel " + std::to_string(p);
    panel.categories = {"Inst.", "Pat.", "Stu."};
    panel.series.push_back({"A", "#ff7f0e", {10.0 + p, 40.0, 0.0}});
    panel.series.push_back({"B", "#2ca02c", {25.0, 5.5, std::nullopt}});
    c.panels.push_back(panel);
  }
  return c;
}

}  // namespace

TEST(ReportSvg, BarHeightsAreProportionalToValues) {
  Chart c = bar_chart();
  std::string svg = render_chart(c);
  EXPECT_EQ(markup_problem(svg), "");
  auto bars = elements(svg, "<rect class=\"bar\"");
  ASSERT_EQ(bars.size(), 10u);  // 2 panels × (3 + 2): B's missing Stu. draws nothing
  // y from 0 to nice_ceiling(41) = 50: height / value is the same for every bar.
  const Attrs* ref = nullptr;
  for (const auto& b : bars)
    if (num(b, "data-value") == 40) ref = &b;
  ASSERT_NE(ref, nullptr);
  const double per_unit = num(*ref, "height") / 40.0;
  EXPECT_GT(per_unit, 0);
  for (const auto& b : bars) {
    EXPECT_NEAR(num(b, "height"), num(b, "data-value") * per_unit, 0.02) << b.at("data-series");
    EXPECT_NEAR(num(b, "y") + num(b, "height"), num(*ref, "y") + num(*ref, "height"),
                0.02);  // one baseline
  }
  // The tick at the top of the axis is the rounded-up maximum.
  expect_contains(svg, ">50</text>");
  EXPECT_EQ(svg.find(">60</text>"), std::string::npos);
}

TEST(ReportSvg, MissingValuesDrawNoBarButZeroDoes) {
  std::string svg = render_chart(bar_chart());
  auto panel = panels_of(svg);
  ASSERT_EQ(panel.size(), 2u);
  auto bars = elements(panel[0], "<rect class=\"bar\"");
  int b_stu = 0, a_stu = 0;
  for (const auto& b : bars) {
    if (b.at("data-category") != "Stu.") continue;
    (b.at("data-series") == "B" ? b_stu : a_stu)++;
    if (b.at("data-series") == "A") {
      EXPECT_EQ(b.at("height"), "0");  // a measured zero is a bar of height 0
    }
  }
  EXPECT_EQ(b_stu, 0);
  EXPECT_EQ(a_stu, 1);
  // Bars of one category sit side by side in series order.
  EXPECT_LT(num(bars[0], "x"), num(bars[3], "x"));
}

TEST(ReportSvg, LinesBreakAtMissingValues) {
  Chart c;
  c.kind = ChartKind::Lines;
  c.title = "Lines";
  Panel p;
  p.categories = {"Sec.", "Stu.", "Pat.", "Inst.", "X"};
  p.series.push_back({"A", "#1f77b4", {1.0, 2.0, std::nullopt, 4.0, 5.0}});
  p.series.push_back({"B", "#d62728", {1.0, std::nullopt, 3.0, std::nullopt, std::nullopt}});
  c.panels.push_back(p);
  std::string svg = render_chart(c);
  EXPECT_EQ(markup_problem(svg), "");
  auto lines = elements(svg, "<polyline class=\"line\"");
  ASSERT_EQ(lines.size(), 2u);  // A: two runs of two points; B: no two neighbours
  for (const auto& l : lines) {
    EXPECT_EQ(l.at("data-series"), "A");
    EXPECT_EQ(std::count(l.at("points").begin(), l.at("points").end(), ','), 2);
  }
  auto points = elements(svg, "<circle class=\"point\"");
  EXPECT_EQ(points.size(), 6u);
  for (const auto& pt : points)
    EXPECT_NE(pt.at("data-category"), pt.at("data-series") == "A" ? "Pat." : "Stu.");
}

TEST(ReportSvg, EscapesTextAndIsDeterministic) {
  Chart c = bar_chart();
  c.title = "A & B <C>";
  c.panels[0].series[0].name = "x\"y'z";
  std::string svg = render_chart(c);
  EXPECT_EQ(markup_problem(svg), "");
  expect_contains(svg, "A &amp; B &lt;C&gt;");
  expect_contains(svg, "data-series=\"x&quot;y&#39;z\"");
  EXPECT_EQ(svg.find("<C>"), std::string::npos);
  EXPECT_EQ(svg, render_chart(c));
  EXPECT_EQ(svg_number(12.5), "12.5");
  EXPECT_EQ(svg_number(100), "100");
  EXPECT_EQ(svg_number(-0.001), "0");
  EXPECT_EQ(svg_number(3.14159), "3.14");
  EXPECT_DOUBLE_EQ(nice_ceiling(97.91), 100);
  EXPECT_DOUBLE_EQ(nice_ceiling(18), 20);
  EXPECT_DOUBLE_EQ(nice_ceiling(20), 20);
  EXPECT_DOUBLE_EQ(nice_ceiling(2.1), 2.5);
  EXPECT_DOUBLE_EQ(nice_ceiling(0), 1);
}

TEST(ReportSvg, ReferenceLineAcrossPanelOrPerCategory) {
  Chart c = bar_chart();
  c.reference_label = "Vanilla";
  c.panels[0].reference = {90.0, 90.0, 90.0};
  c.panels[1].reference = {80.0, std::nullopt, 70.0};
  std::string svg = render_chart(c);
  EXPECT_EQ(markup_problem(svg), "");
  auto panel = panels_of(svg);
  auto refs0 = elements(panel[0], "<line"), refs1 = elements(panel[1], "<line");
  auto dashed = [](const std::vector<Attrs>& v) {
    std::vector<Attrs> out;
    for (const auto& a : v)
      if (a.count("class") && a.at("class") == "reference") out.push_back(a);
    return out;
  };
  ASSERT_EQ(dashed(refs0).size(), 1u);  // one line across the panel
  EXPECT_EQ(dashed(refs0)[0].at("stroke-dasharray"), "6 4");
  EXPECT_EQ(dashed(refs1).size(), 2u);      // a segment per measured category
  expect_contains(svg, ">Vanilla</text>");  // in the legend
}

TEST(ReportFigures, Figure5FromResults) {
  TempDir tmp;
  test::write_run_tree(tmp.path());
  ResultSet rs = load_results({tmp.path()});
  Chart c = figure5(rs, Fig5Metric::GenScore);
  ASSERT_EQ(c.panels.size(), 4u);
  EXPECT_EQ(c.panels[0].title, "Forget");
  EXPECT_EQ(c.panels[3].title, "General Med");
  EXPECT_EQ(c.panels[0].categories, (std::vector<std::string>{"Inst.", "Pat.", "Stu.", "Sec."}));
  ASSERT_EQ(c.panels[0].series.size(), 3u);  // vanilla is the dashed line, not a bar
  EXPECT_EQ(c.panels[0].series[0].name, "MANU");
  EXPECT_EQ(c.panels[0].series[0].color, "#ff7f0e");
  EXPECT_FALSE(c.panels[0].series[0].values[3].has_value());  // MANU × Section has no eval
  EXPECT_EQ(c.panels[0].reference, (std::vector<std::optional<double>>(4, 97.91)));
  std::string svg = render_chart(c);
  EXPECT_EQ(markup_problem(svg), "");
  auto forget = elements(panels_of(svg)[0], "<rect class=\"bar\"");
  EXPECT_EQ(forget.size(), 11u);
  bool found = false;
  for (const auto& b : forget)
    if (b.at("data-series") == "GradDiff" && b.at("data-category") == "Stu.") {
      EXPECT_EQ(b.at("data-value"), svg_number(test::tree_forget_gen(1, 2)));
      found = true;
    }
  EXPECT_TRUE(found);
  // Rephrase panel: GradDiff × Patient has no forget_rephrase set → no bar.
  for (const auto& b : elements(panels_of(svg)[2], "<rect class=\"bar\""))
    EXPECT_FALSE(b.at("data-series") == "GradDiff" && b.at("data-category") == "Pat.");
  Chart cls = figure5(rs, Fig5Metric::ClassAcc);
  EXPECT_NEAR(*cls.panels[0].series[0].values[0], 50.0, 1e-9);  // accuracies as percentages
}

TEST(ReportFigures, Figure6FromResults) {
  TempDir tmp;
  test::write_run_tree(tmp.path());
  Chart c = figure6(load_results({tmp.path()}));
  ASSERT_EQ(c.panels.size(), 4u);
  EXPECT_EQ(c.panels[0].title, "None");
  EXPECT_EQ(c.panels[3].title, "Institution + Patient + Study");
  EXPECT_EQ(c.panels[0].categories, (std::vector<std::string>{"Sec.", "Stu.", "Pat.", "Inst."}));
  ASSERT_EQ(c.panels[2].series.size(), 3u);
  const Series& npo = c.panels[2].series[2];
  EXPECT_EQ(npo.name, "NPO");
  EXPECT_EQ(npo.color, "#9467bd");
  // x is Section first: category 0 is level index 3.
  EXPECT_DOUBLE_EQ(*npo.values[0], test::tree_attack_gen(2, 3, 2));
  EXPECT_DOUBLE_EQ(*npo.values[3], test::tree_attack_gen(2, 0, 2));
  EXPECT_EQ(c.panels[1].reference, (std::vector<std::optional<double>>(4, 61.0)));
  std::string svg = render_chart(c);
  EXPECT_EQ(markup_problem(svg), "");
  EXPECT_EQ(elements(svg, "<polyline class=\"line\"").size(),
            12u);  // 3 methods × 4 panels, no gaps
  EXPECT_EQ(elements(svg, "<circle class=\"point\"").size(), 48u);
}

// The paper grid plots the 7 methods and 6 variants beside each other: every
// series needs its own colour (the 10-colour palette alone repeated two).
TEST(ReportFigures, EveryGridSeriesHasItsOwnColour) {
  ResultSet rs;
  for (const char* m : {"vanilla", "retrain", "manu", "graddiff", "kl_min", "npo", "mip_editor", "chip", "chip_k50_all",
                        "chip_lang_only", "chip_no_siblings", "chip_zero_out", "chip_no_separation", "manu_a30_all",
                        "npo_rt"})
    rs.entries.push_back(Entry{m, std::nullopt, m, std::nullopt, std::nullopt, std::nullopt});
  std::map<std::string, std::string> owner;
  for (const auto& m : rs.methods()) {
    const std::string c = method_color(rs, m);
    EXPECT_TRUE(owner.emplace(c, m).second) << m << " has " << c << ", the colour of " << owner[c];
  }
  EXPECT_EQ(method_color(rs, "chip"), "#d62728");  // known methods keep Figure 6's colours
  EXPECT_EQ(method_color(rs, "npo"), "#9467bd");
}
