#include "report/report.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/fs.hpp"
#include "report/markup_check.hpp"
#include "report/report_fixtures.hpp"
#include "test_util.hpp"

using namespace medforget;
using namespace medforget::report;
using medforget::test::error_of;
using medforget::test::expect_contains;
using medforget::test::markup_problem;
using medforget::test::TempDir;
namespace fs = std::filesystem;

namespace {

size_t count_of(const std::string& s, const std::string& part) {
  size_t n = 0;
  for (size_t i = s.find(part); i != std::string::npos; i = s.find(part, i + 1)) ++n;
  return n;
}

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

const std::vector<std::string> kAllOutputs{"table3.md",
                                           "table3.csv",
                                           "fr_diff.md",
                                           "fr_diff.csv",
                                           "fr_diff_by_level.md",
                                           "fr_diff_by_level.csv",
                                           "retrain_distance_by_level.md",
                                           "retrain_distance_by_level.csv",
                                           "fig5_gen_score.svg",
                                           "fig5_class_acc.svg",
                                           "fig5_cloze_acc.svg",
                                           "generation.md",
                                           "generation.csv",
                                           "attack.md",
                                           "attack.csv",
                                           "fig6_leakage.svg",
                                           "mia.md",
                                           "mia.csv",
                                           "report.html"};

}  // namespace

TEST(ReportStage, WritesEveryOutputAndReturnsTheSummary) {
  TempDir tmp;
  test::write_run_tree(tmp / "runs");
  ReportOutputs out = write_report({tmp / "runs"}, tmp / "out");
  std::vector<fs::path> expected;
  for (const auto& n : kAllOutputs) expected.push_back(tmp / "out" / n);
  EXPECT_EQ(out.files, expected);
  auto sorted = kAllOutputs;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(names_in(tmp / "out"), sorted);  // nothing else: no temp files left behind
  for (const auto& f : out.files) EXPECT_GT(fs::file_size(f), 100u) << f;
  EXPECT_EQ(out.summary_markdown,
            read_text(tmp / "out" / "table3.md") + "\n" + read_text(tmp / "out" / "fr_diff.md") + "\n" +
                read_text(tmp / "out" / "fr_diff_by_level.md") + "\n" +
                read_text(tmp / "out" / "retrain_distance_by_level.md"));  // several levels: the pivots too
  EXPECT_EQ(out.summary_markdown.rfind("### Table 3.", 0), 0u);
  expect_contains(out.summary_markdown, "### F/R Diff and distance to Retrain per hierarchy level");
  expect_contains(out.summary_markdown, "### Distance to Retrain by method and unlearning level");
  EXPECT_EQ(out.bench_digest, "bench-aaa");
  ASSERT_EQ(out.inputs.size(), 38u);
  for (const auto& in : out.inputs) EXPECT_EQ(in.at("sha256").get<std::string>().size(), 64u);
  for (const auto& f : out.files) {
    if (f.extension() == ".svg") {
      EXPECT_EQ(markup_problem(read_text(f)), "") << f;
    }
  }
}

TEST(ReportStage, HtmlIsSelfContainedAndWellFormed) {
  TempDir tmp;
  test::write_run_tree(tmp / "runs");
  write_report({tmp / "runs"}, tmp / "out");
  std::string html = read_text(tmp / "out" / "report.html");
  EXPECT_EQ(markup_problem(html), "");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  // Every figure inline, byte for byte as in its own file; every table as a table.
  for (const char* svg :
       {"fig5_gen_score.svg", "fig5_class_acc.svg", "fig5_cloze_acc.svg", "fig6_leakage.svg"})
    expect_contains(html, read_text(tmp / "out" / svg));
  EXPECT_EQ(count_of(html, "<svg "), 4u);
  EXPECT_EQ(count_of(html, "<table class=\"results\""), 7u);
  for (const char* h :
       {"<h2>Table 3.", "<h2>F/R Diff", "<h2>F/R Diff by method and unlearning level",
        "<h2>Distance to Retrain by method and unlearning level", "<h2>Figure 5. Gen Score", "<h2>Figure 5. Class Acc",
        "<h2>Figure 5. Cloze Acc", "<h2>Table 5.", "<h2>Hierarchical reconstruction attack",
        "<h2>Figure 6.", "<h2>Membership inference", "<h2>Input files"})
    expect_contains(html, h);
  EXPECT_EQ(count_of(html, "<p class=\"caption\">"), 12u);
  expect_contains(html, "<strong>");  // the best F/R Diff of each level
  // Grouped header as in the paper.
  expect_contains(html, "<th colspan=\"3\">Forget ↓</th>");
  expect_contains(html, "<th rowspan=\"2\">Hierarchy</th>");
  // No external resources of any kind.
  for (const char* bad : {"<script", "<link", " src=", "url(", "@import", "https://"})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  EXPECT_EQ(count_of(html, "http://"), count_of(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  // The input list: every file with its model digest.
  expect_contains(html, "bench-aaa");
  expect_contains(html, (tmp / "runs" / "npo_study" / "attack.json").string());
  expect_contains(html, "model-npo-study");
  expect_contains(html, "model-vanilla-none");
}

TEST(ReportStage, OptionalOutputsFollowTheInputsAndStaleOnesGo) {
  TempDir tmp;
  test::write_run_tree(tmp / "runs");
  write_report({tmp / "runs"}, tmp / "out");
  ASSERT_TRUE(fs::exists(tmp / "out" / "fig6_leakage.svg"));
  // Eval summaries only: no attack or MIA outputs, and the old ones are removed.
  ReportOutputs out = write_report(
      {tmp / "runs" / "vanilla" / "summary.json", tmp / "runs" / "npo_study" / "summary.json"},
      tmp / "out");
  EXPECT_EQ(out.files.size(), 14u);
  for (const char* gone : {"attack.md", "attack.csv", "fig6_leakage.svg", "mia.md", "mia.csv"})
    EXPECT_FALSE(fs::exists(tmp / "out" / gone)) << gone;
  std::string html = read_text(tmp / "out" / "report.html");
  EXPECT_EQ(html.find("Figure 6."), std::string::npos);
  EXPECT_EQ(markup_problem(html), "");
}

// The distance to Retrain reaches every output: the CLI summary, the Markdown
// and CSV files and the page.
TEST(ReportStage, EveryOutputCarriesTheDistanceToRetrain) {
  TempDir tmp;
  auto eval = [&](const std::string& method, const std::optional<std::string>& level, double fg,
                  double fc) {
    Json sets = {{"forget", test::set_json(fg, fc, fc)}, {"retain", test::set_json(90, 0.9, 0.9)}};
    test::write_doc(tmp / "runs" / (method + "_" + level.value_or("none")) / "summary.json",
                    test::eval_doc(method, level, sets));
  };
  eval("vanilla", std::nullopt, 97, 1.0);
  eval("retrain", "section", 40, 0.5);
  eval("graddiff", "section", 0, 0.0);  // distances (40, 50, 50) → 46.67
  eval("npo", "section", 43, 0.5);      // (3, 0, 0) → 1.00
  eval("npo", "study", 43, 0.5);        // no Retrain at the study level
  ReportOutputs out = write_report({tmp / "runs"}, tmp / "out");
  const std::string fr = read_text(tmp / "out" / "fr_diff.md");
  for (const char* col : {"ΔRetrain Gen", "ΔRetrain Class", "ΔRetrain Cloze", "| ΔRetrain"})
    expect_contains(fr, col);
  expect_contains(read_text(tmp / "out" / "fr_diff.csv"),
                  "graddiff,GradDiff,section,90.00,90.00,90.00,90.00,40.00,50.00,50.00,46.67\n");
  expect_contains(read_text(tmp / "out" / "fr_diff.csv"),
                  "npo,NPO,study,47.00,40.00,40.00,42.33,,,,\n");
  const std::string pivot = read_text(tmp / "out" / "retrain_distance_by_level.csv");
  expect_contains(pivot, "method,label,section,study,patient,institution\n");
  expect_contains(pivot, "retrain,Retrain,0.00,,,\n");
  expect_contains(pivot, "npo,NPO,1.00,,,\n");
  expect_contains(out.summary_markdown, fr);
  expect_contains(out.summary_markdown, read_text(tmp / "out" / "retrain_distance_by_level.md"));
  const std::string html = read_text(tmp / "out" / "report.html");
  EXPECT_EQ(markup_problem(html), "");
  expect_contains(html, "id=\"retrain_distance_by_level-table\"");
  expect_contains(html, "ΔRetrain Cloze");
  expect_contains(html, "46.67");
}

TEST(ReportStage, SameInputsGiveTheSameBytes) {
  TempDir tmp;
  test::write_run_tree(tmp / "runs");
  write_report({tmp / "runs"}, tmp / "a");
  write_report({tmp / "runs"}, tmp / "b");
  for (const auto& n : kAllOutputs)
    EXPECT_EQ(read_text(tmp / "a" / n), read_text(tmp / "b" / n)) << n;
}

TEST(ReportStage, InvalidInputsWriteNothing) {
  TempDir tmp;
  test::write_run_tree(tmp / "runs");
  Json sets = {{"forget", test::set_json(1, 0.1, 0.1)}};
  test::write_doc(tmp / "runs" / "other" / "summary.json",
                  test::eval_doc("chip", "section", sets, "bench-zzz"));
  std::string msg = error_of([&] { write_report({tmp / "runs"}, tmp / "out"); });
  expect_contains(msg, "different benchmarks");
  expect_contains(msg, (tmp / "runs" / "other" / "summary.json").string());
  EXPECT_FALSE(fs::exists(tmp / "out"));
}

// Renders the page in a real browser: the HTML must display as a page, not as
// text or a blank screen. Needs chromium (scripts/setup.sh installs it).
TEST(ReportRender, ChromiumScreenshotShowsThePage) {
  if (std::system(
          "command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1") !=
      0)
    GTEST_SKIP()
        << "chromium is not installed (scripts/setup.sh installs it); render check skipped";
  TempDir tmp;
  test::write_run_tree(tmp / "runs");
  write_report({tmp / "runs"}, tmp / "out");
  const fs::path png = tmp / "page.png";
  std::string cmd = std::string("'") + MEDFORGET_SOURCE_DIR + "/scripts/check_report_render.sh' '" +
                    (tmp / "out" / "report.html").string() + "' '" + png.string() +
                    "' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  ASSERT_TRUE(fs::exists(png));
  cv::Mat img = cv::imread(png.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty()) << "screenshot does not decode";
  EXPECT_EQ(img.cols, 1400);
  EXPECT_EQ(img.rows, 2000);
  cv::Mat gray;
  cv::cvtColor(img, gray, cv::COLOR_BGR2GRAY);
  double lo = 0, hi = 0;
  cv::minMaxLoc(gray, &lo, &hi);
  EXPECT_LT(lo, 100) << "no dark text";
  EXPECT_GT(hi, 230) << "no light background";
  // Not one colour: a real page has text and table rules across a good part of it.
  double non_white =
      static_cast<double>(cv::countNonZero(gray < 235)) / static_cast<double>(gray.total());
  EXPECT_GT(non_white, 0.01);
  // The bar charts drew: saturated pixels (the method colours) are present.
  cv::Mat hsv;
  cv::cvtColor(img, hsv, cv::COLOR_BGR2HSV);
  std::vector<cv::Mat> ch;
  cv::split(hsv, ch);
  EXPECT_GT(cv::countNonZero(ch[1] > 120), 500) << "no coloured chart pixels in the first 2000 px";
}
