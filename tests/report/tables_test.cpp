#include "report/tables.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>

#include "report/report_fixtures.hpp"
#include "test_util.hpp"

using namespace medforget;
using namespace medforget::report;
using medforget::test::expect_contains;
using medforget::test::TempDir;

namespace {

// RFC 4180 reader, independent of the writer under test.
std::vector<std::vector<std::string>> parse_csv(const std::string& s) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"')
        rows.back().back() += '"', ++i;
      else if (c == '"')
        quoted = false;
      else
        rows.back().back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\n') {
      rows.emplace_back(1);
    } else {
      rows.back().back() += c;
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();
  return rows;
}

std::vector<std::string> md_table_lines(const std::string& md) {
  std::vector<std::string> out;
  std::istringstream in(md);
  std::string l;
  while (std::getline(in, l))
    if (!l.empty() && l[0] == '|') out.push_back(l);
  return out;
}

std::vector<std::string> md_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cur;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cur += '|';
      ++i;
    } else if (line[i] == '|') {
      cells.push_back(cur.substr(cur.find_first_not_of(' '),
                                 cur.find_last_not_of(' ') - cur.find_first_not_of(' ') + 1));
      cur.clear();
    } else {
      cur += line[i];
    }
  }
  return cells;
}

size_t width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

const std::vector<std::string>* row_of(const std::vector<std::vector<std::string>>& rows,
                                       const std::string& method, const std::string& level) {
  for (const auto& r : rows)
    if (r.size() > 2 && r[0] == method && r[2] == level) return &r;
  return nullptr;
}

struct Fixture {
  TempDir tmp;
  ResultSet rs;
  Fixture() {
    test::write_run_tree(tmp.path());
    rs = load_results({tmp.path()});
  }
};

}  // namespace

TEST(ReportTables, Table3RowsColumnsAndPercentages) {
  Fixture fx;
  Table t = table3(fx.rs);
  auto csv = parse_csv(to_csv(t));
  ASSERT_EQ(csv.size(), 1u + 12);  // header + vanilla + manu×3 + graddiff×4 + npo×4
  for (const auto& r : csv) EXPECT_EQ(r.size(), 15u);
  EXPECT_EQ(csv[0][0], "method");
  EXPECT_EQ(csv[0][3], "forget_gen_score");
  EXPECT_EQ(csv[0][14], "general_cloze_acc");
  EXPECT_EQ(csv[1], (std::vector<std::string>{"vanilla", "Vanilla", "", "97.91", "100.00", "100.00",
                                              "97.48", "100.00", "100.00", "58.54", "98.68",
                                              "87.25", "68.59", "95.23", "82.34"}));
  // graddiff × patient: no forget_rephrase set → three empty CSV fields, three "–" in Markdown.
  const auto* gd = row_of(csv, "graddiff", "patient");
  ASSERT_NE(gd, nullptr);
  EXPECT_EQ(*gd, (std::vector<std::string>{"graddiff", "GradDiff", "patient", "16.00", "57.00",
                                           "47.00", "19.50", "61.00", "50.00", "", "", "", "32.00",
                                           "20.00", "15.00"}));
  EXPECT_EQ(row_of(csv, "manu", "section"), nullptr);  // no eval summary for it
  EXPECT_EQ((*row_of(csv, "npo", "study"))[14], "");   // null cloze_acc is missing, not 0

  std::string md = to_markdown(t);
  EXPECT_EQ(md.rfind("### Table 3.", 0), 0u);
  auto lines = md_table_lines(md);
  ASSERT_EQ(lines.size(), 2u + 12);
  auto header = md_cells(lines[0]);
  ASSERT_EQ(header.size(), 14u);  // the CSV-only label column is not shown
  EXPECT_EQ(header[0], "Method");
  EXPECT_EQ(header[1], "Hierarchy");
  EXPECT_EQ(header[2], "Forget ↓ Gen Score");
  EXPECT_EQ(header[5], "Retain ↑ Gen Score");
  auto vanilla = md_cells(lines[2]);
  EXPECT_EQ(vanilla[0], "Vanilla");
  EXPECT_EQ(vanilla[1], "—");
  EXPECT_EQ(vanilla[2], "97.91");
  // Institution → Section within a method, as in the paper.
  EXPECT_EQ(md_cells(lines[3])[1], "Institution");
  EXPECT_EQ(md_cells(lines[4])[1], "Patient");
  EXPECT_EQ(md_cells(lines[5])[1], "Study");
  EXPECT_EQ(md_cells(lines[6])[0], "GradDiff");
  auto gdm = md_cells(lines[7]);
  EXPECT_EQ(gdm[1], "Patient");
  EXPECT_EQ(gdm[8], "–");
  EXPECT_EQ(gdm[9], "–");
  EXPECT_EQ(gdm[10], "–");
  for (const auto& l : lines)
    EXPECT_EQ(width(l), width(lines[0])) << l;   // padded to aligned columns
  EXPECT_EQ(md_cells(lines[1])[2].back(), ':');  // numbers right-aligned
}

TEST(ReportTables, FrDiffIsRetainMinusForgetAndTheirMean) {
  Fixture fx;
  auto csv = parse_csv(to_csv(fr_diff_table(fx.rs)));
  EXPECT_EQ(csv[0], (std::vector<std::string>{"method", "label", "level", "diff_gen_score",
                                              "diff_class_acc", "diff_cloze_acc", "fr_diff",
                                              "retrain_dist_gen_score", "retrain_dist_class_acc",
                                              "retrain_dist_cloze_acc", "retrain_dist"}));
  // No Retrain in this run: the distance to it is missing, never 0.
  EXPECT_EQ(*row_of(csv, "graddiff", "patient"),
            (std::vector<std::string>{"graddiff", "GradDiff", "patient", "3.50", "4.00", "3.00",
                                      "3.50", "", "", "", ""}));
  // Vanilla: (97.48 − 97.91, 0, 0) → mean −0.143.
  EXPECT_EQ(*row_of(csv, "vanilla", ""),
            (std::vector<std::string>{"vanilla", "Vanilla", "", "-0.43", "0.00", "0.00", "-0.14",
                                      "", "", "", ""}));
}

TEST(ReportTables, FrDiffMeanIsMissingWhenAMetricIsMissing) {
  TempDir tmp;
  Json sets = {{"forget", test::set_json(20, 0.6, 0.5)}, {"retain", test::set_json(26, 0.7, 0.5)}};
  sets["forget"]["cloze_acc"] = nullptr;
  test::write_doc(tmp / "s.json", test::eval_doc("npo", "section", sets));
  auto csv = parse_csv(to_csv(fr_diff_table(load_results({tmp / "s.json"}))));
  ASSERT_EQ(csv.size(), 2u);
  EXPECT_EQ(csv[1], (std::vector<std::string>{"npo", "NPO", "section", "6.00", "10.00", "", "",
                                              "", "", "", ""}));
}

TEST(ReportTables, GenerationAttackAndMiaTables) {
  Fixture fx;
  auto gen = parse_csv(to_csv(generation_table(fx.rs)));
  EXPECT_EQ(gen[0][3], "forget_rouge_l");
  EXPECT_EQ(gen[0][4], "forget_factuality");
  const auto& v = *row_of(gen, "vanilla", "");
  EXPECT_EQ(v[3], "97.33");  // ROUGE-L as a percentage
  EXPECT_EQ(v[4], "9.80");   // factuality on the judge's 1–10 scale
  EXPECT_EQ(v[5], "97.91");

  auto att = parse_csv(to_csv(attack_table(fx.rs)));
  ASSERT_EQ(att.size(), 1u + 13);
  EXPECT_EQ(att[0], (std::vector<std::string>{"method", "label", "level", "none_gen_score",
                                              "study_gen_score", "patient+study_gen_score",
                                              "institution+patient+study_gen_score"}));
  EXPECT_EQ(
      *row_of(att, "manu", "section"),
      (std::vector<std::string>{"manu", "MANU", "section", "17.00", "18.50", "20.00", "21.50"}));
  auto md = md_table_lines(to_markdown(attack_table(fx.rs)));
  EXPECT_EQ(md_cells(md[0])[1], "Unlearning level");
  EXPECT_EQ(md_cells(md[0])[5], "Context ↓ Institution + Patient + Study");

  auto mia = parse_csv(to_csv(mia_table(fx.rs)));
  ASSERT_EQ(mia.size(), 1u + 13);
  EXPECT_EQ(*row_of(mia, "vanilla", ""),
            (std::vector<std::string>{"vanilla", "Vanilla", "", "40", "40", "0.900", "0.550",
                                      "0.600", "", "-12.50", "3.25", "0.00", "", "0.000123"}));
}

TEST(ReportTables, CsvQuotesAndMarkdownEscapes) {
  TempDir tmp;
  Json a = test::eval_doc("zeta", "section", {{"forget", test::set_json(20, 0.6, 0.5)}});
  a["label"] = "Zeta, \"ours\" | v2";
  test::write_doc(tmp / "a.json", a);
  Table t = table3(load_results({tmp / "a.json"}));
  std::string csv = to_csv(t);
  expect_contains(csv, "zeta,\"Zeta, \"\"ours\"\" | v2\",section,20.00");
  auto rows = parse_csv(csv);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][1], "Zeta, \"ours\" | v2");
  auto md = md_table_lines(to_markdown(t));
  expect_contains(md[2], "Zeta, \"ours\" \\| v2");
  EXPECT_EQ(md_cells(md[2]).size(), 14u);
  EXPECT_EQ(csv_field("plain"), "plain");
  EXPECT_EQ(csv_field("a\nb"), "\"a\nb\"");
}

TEST(ReportTables, NumberFormatting) {
  EXPECT_EQ(format_fixed(97.905001, 2), "97.91");
  EXPECT_EQ(format_fixed(-0.001, 2), "0.00");
  EXPECT_EQ(format_fixed(-4.07, 2), "-4.07");
  EXPECT_EQ(format_fixed(100, 2), "100.00");
  EXPECT_EQ(format_sig(0.000123, 3), "0.000123");
  EXPECT_EQ(format_sig(1.5e-12, 3), "1.5e-12");
  Cell m = number_cell(std::nullopt, 2);
  EXPECT_TRUE(m.missing);
  EXPECT_EQ(m.text, "–");
  EXPECT_EQ(m.csv, "");
  EXPECT_EQ(number_cell(0.0, 2).text, "0.00");  // a measured zero is shown as zero
}

TEST(ReportTables, FrDiffByLevelPivotsMethodsAndMarksTheBestOfEachLevel) {
  TempDir tmp;
  // F/R mean = (Δgen + 100·Δcls + 100·Δclz) / 3.
  auto doc = [&](const std::string& method, const std::string& level, double fg, double rg) {
    Json sets = {{"forget", test::set_json(fg, 0.5, 0.5)}, {"retain", test::set_json(rg, 0.8, 0.5)}};
    test::write_doc(tmp / (method + "_" + level) / "summary.json", test::eval_doc(method, level, sets));
  };
  doc("chip", "section", 40, 52);           // (12 + 30 + 0) / 3 = 14
  doc("chip", "patient", 40, 43);           // 11
  doc("graddiff", "section", 20, 26);       // 12
  doc("graddiff", "patient", 20, 35);       // 15
  doc("chip_no_siblings", "section", 50, 50);  // 10
  test::write_doc(tmp / "vanilla/summary.json", test::eval_doc("vanilla", std::nullopt,
                                                  {{"forget", test::set_json(97, 1, 1)}, {"retain", test::set_json(97, 1, 1)}}));
  Table t = fr_diff_by_level_table(load_results({tmp.path()}));
  auto csv = parse_csv(to_csv(t));
  EXPECT_EQ(csv[0], (std::vector<std::string>{"method", "label", "section", "study", "patient", "institution"}));
  ASSERT_EQ(t.rows.size(), 3u);  // vanilla has no level: not a row
  auto row = [&](const std::string& m) {
    for (const auto& r : csv)
      if (r[0] == m) return r;
    ADD_FAILURE() << "no row " << m;
    return std::vector<std::string>{};
  };
  EXPECT_EQ(row("chip"), (std::vector<std::string>{"chip", "CHIP", "14.00", "", "11.00", ""}));
  EXPECT_EQ(row("graddiff"), (std::vector<std::string>{"graddiff", "GradDiff", "12.00", "", "15.00", ""}));
  EXPECT_EQ(row("chip_no_siblings")[2], "10.00");
  // The best of each level is bold: CHIP at the section level, GradDiff at the patient level.
  std::string md = to_markdown(t);
  expect_contains(md, "**14.00**");
  expect_contains(md, "**15.00**");
  EXPECT_EQ(md.find("**12.00**"), std::string::npos) << md;
  EXPECT_EQ(md.find("**11.00**"), std::string::npos) << md;
}

namespace {

// A run at the section level with Retrain, an over-forgetter (GradDiff drives
// every forget metric to 0, the case) and a method that ends near
// Retrain (NPO); GradDiff also at the patient level, where there is no Retrain.
// Set files hold accuracies on 0–1; the tables show percent.
struct RetrainRun {
  TempDir tmp;
  void eval(const std::string& method, const std::optional<std::string>& level, Json forget,
            Json retain) {
    const std::string dir = method + "_" + level.value_or("none");
    test::write_doc(tmp / dir / "summary.json",
                    test::eval_doc(method, level, {{"forget", forget}, {"retain", retain}}));
  }
  RetrainRun() {
    eval("vanilla", std::nullopt, test::set_json(97.91, 1.0, 1.0), test::set_json(97.48, 1.0, 1.0));
    eval("retrain", "section", test::set_json(40.77, 0.55, 0.30), test::set_json(97.0, 1.0, 0.9));
    eval("graddiff", "section", test::set_json(0.0, 0.0, 0.0), test::set_json(90.0, 0.95, 0.8));
    eval("npo", "section", test::set_json(45.27, 0.60, 0.25), test::set_json(95.0, 0.98, 0.88));
    eval("graddiff", "patient", test::set_json(1.0, 0.01, 0.0), test::set_json(80.0, 0.9, 0.7));
  }
};

const Entry& entry(const ResultSet& rs, const std::string& method, std::optional<Level> level) {
  const Entry* e = rs.find(method, level);
  if (!e) throw std::runtime_error("no entry " + method);
  return *e;
}

}  // namespace

TEST(ReportTables, DistanceToRetrainDoesNotRewardOverForgetting) {
  RetrainRun run;
  const ResultSet rs = load_results({run.tmp.path()});
  const Level sec = Level::Section;

  // |forget(method) − forget(Retrain)| in percentage points, and the mean.
  const RetrainDistance gd = retrain_distance(rs, entry(rs, "graddiff", sec), sec);
  ASSERT_TRUE(gd.per_metric[0] && gd.per_metric[1] && gd.per_metric[2] && gd.mean);
  EXPECT_NEAR(*gd.per_metric[0], 40.77, 1e-9);
  EXPECT_NEAR(*gd.per_metric[1], 55.0, 1e-9);
  EXPECT_NEAR(*gd.per_metric[2], 30.0, 1e-9);
  EXPECT_NEAR(*gd.mean, (40.77 + 55 + 30) / 3, 1e-9);
  const RetrainDistance npo = retrain_distance(rs, entry(rs, "npo", sec), sec);
  ASSERT_TRUE(npo.mean);
  EXPECT_NEAR(*npo.per_metric[0], 4.5, 1e-9);  // NPO forgot less than Retrain on Gen: still a distance
  EXPECT_NEAR(*npo.per_metric[1], 5.0, 1e-9);
  EXPECT_NEAR(*npo.per_metric[2], 5.0, 1e-9);
  EXPECT_NEAR(*npo.mean, 14.5 / 3, 1e-9);
  const RetrainDistance self = retrain_distance(rs, entry(rs, "retrain", sec), sec);
  ASSERT_TRUE(self.mean);
  EXPECT_EQ(*self.mean, 0.0);
  // Vanilla (no level) against the section level's Retrain.
  const RetrainDistance van = retrain_distance(rs, entry(rs, "vanilla", std::nullopt), sec);
  ASSERT_TRUE(van.mean);
  EXPECT_NEAR(*van.mean, (57.14 + 45 + 70) / 3, 1e-9);
  // No Retrain at the patient level: every value missing.
  const RetrainDistance pat =
      retrain_distance(rs, entry(rs, "graddiff", Level::Patient), Level::Patient);
  EXPECT_FALSE(pat.per_metric[0] || pat.per_metric[1] || pat.per_metric[2] || pat.mean);

  Table t = fr_diff_table(rs);
  auto csv = parse_csv(to_csv(t));
  // GradDiff: F/R Diff (90 + 95 + 80) / 3 = 88.33, above NPO's (49.73 + 38 + 63) / 3 = 50.24,
  // yet it is 41.92 points from Retrain on the forget set where NPO is 4.83.
  EXPECT_EQ(*row_of(csv, "graddiff", "section"),
            (std::vector<std::string>{"graddiff", "GradDiff", "section", "90.00", "95.00", "80.00",
                                      "88.33", "40.77", "55.00", "30.00", "41.92"}));
  EXPECT_EQ(*row_of(csv, "npo", "section"),
            (std::vector<std::string>{"npo", "NPO", "section", "49.73", "38.00", "63.00", "50.24",
                                      "4.50", "5.00", "5.00", "4.83"}));
  EXPECT_EQ(*row_of(csv, "retrain", "section"),
            (std::vector<std::string>{"retrain", "Retrain", "section", "56.23", "45.00", "60.00",
                                      "53.74", "0.00", "0.00", "0.00", "0.00"}));
  // One level has Retrain, so Vanilla is compared with it.
  EXPECT_EQ(*row_of(csv, "vanilla", ""),
            (std::vector<std::string>{"vanilla", "Vanilla", "", "-0.43", "0.00", "0.00", "-0.14",
                                      "57.14", "45.00", "70.00", "57.38"}));
  EXPECT_EQ(*row_of(csv, "graddiff", "patient"),
            (std::vector<std::string>{"graddiff", "GradDiff", "patient", "79.00", "89.00", "70.00",
                                      "79.33", "", "", "", ""}));
  auto md = md_table_lines(to_markdown(t));
  EXPECT_EQ(md_cells(md[0]),
            (std::vector<std::string>{"Method", "Hierarchy", "Δ Gen Score", "Δ Class Acc",
                                      "Δ Cloze Acc", "F/R Diff", "ΔRetrain Gen", "ΔRetrain Class",
                                      "ΔRetrain Cloze", "ΔRetrain"}));
  bool saw_patient = false;
  for (const auto& l : md) {
    auto c = md_cells(l);
    if (c[0] == "GradDiff" && c[1] == "Patient") {
      saw_patient = true;
      EXPECT_EQ(c[9], "–");  // missing, not 0
    }
  }
  EXPECT_TRUE(saw_patient);

  // The pivot: Vanilla and Retrain (0) as rows; the closest unlearning method in bold.
  Table p = retrain_distance_by_level_table(rs);
  auto pc = parse_csv(to_csv(p));
  ASSERT_EQ(pc.size(), 5u);
  EXPECT_EQ(pc[0], (std::vector<std::string>{"method", "label", "section", "study", "patient",
                                             "institution"}));
  EXPECT_EQ(pc[1], (std::vector<std::string>{"vanilla", "Vanilla", "57.38", "", "", ""}));
  EXPECT_EQ(pc[2], (std::vector<std::string>{"retrain", "Retrain", "0.00", "", "", ""}));
  EXPECT_EQ(pc[3], (std::vector<std::string>{"graddiff", "GradDiff", "41.92", "", "", ""}));
  EXPECT_EQ(pc[4], (std::vector<std::string>{"npo", "NPO", "4.83", "", "", ""}));
  std::string pmd = to_markdown(p);
  expect_contains(pmd, "### Distance to Retrain by method and unlearning level");
  expect_contains(pmd, "**4.83**");
  EXPECT_EQ(pmd.find("**0.00**"), std::string::npos) << pmd;  // Retrain is the reference
  EXPECT_EQ(pmd.find("**41.92**"), std::string::npos) << pmd;
}

TEST(ReportTables, VanillaIsComparedWithRetrainAtEachLevel) {
  RetrainRun run;
  run.eval("retrain", "patient", test::set_json(50.0, 0.6, 0.4), test::set_json(96.0, 1.0, 0.9));
  const ResultSet rs = load_results({run.tmp.path()});
  // Two levels have Retrain: Vanilla's one row in fr_diff cannot say which, the pivot can.
  auto csv = parse_csv(to_csv(fr_diff_table(rs)));
  EXPECT_EQ(*row_of(csv, "vanilla", ""),
            (std::vector<std::string>{"vanilla", "Vanilla", "", "-0.43", "0.00", "0.00", "-0.14",
                                      "", "", "", ""}));
  // GradDiff at the patient level now has a reference: (|1 − 50|, |1 − 60|, |0 − 40|).
  EXPECT_EQ(*row_of(csv, "graddiff", "patient"),
            (std::vector<std::string>{"graddiff", "GradDiff", "patient", "79.00", "89.00", "70.00",
                                      "79.33", "49.00", "59.00", "40.00", "49.33"}));
  auto pc = parse_csv(to_csv(retrain_distance_by_level_table(rs)));
  // Vanilla at patient: (47.91 + 40 + 60) / 3 = 49.30.
  EXPECT_EQ(pc[1], (std::vector<std::string>{"vanilla", "Vanilla", "57.38", "", "49.30", ""}));
  EXPECT_EQ(pc[2], (std::vector<std::string>{"retrain", "Retrain", "0.00", "", "0.00", ""}));
  EXPECT_EQ(pc[3], (std::vector<std::string>{"graddiff", "GradDiff", "41.92", "", "49.33", ""}));
}
