// Corpora built outside `data build --preset` reach the benchmark through the
// CLI: a saved synthetic corpus, and an IU X-ray style import.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "core/digest.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

TEST(DataCli, BuildsFromASavedSyntheticCorpus) {
  test::TempDir t;
  auto r = test::run_cli("data synth --preset tiny --seed 4 --out " + (t / "corpus").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_cli("data build --corpus " + (t / "corpus").string() + " --preset tiny --seed 4 --out " +
                    (t / "bench").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_cli("data check " + (t / "bench").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("fine-tuning items: 120"), std::string::npos) << r.output;
  // The corpus digest is recorded as the benchmark's input.
  Json m = read_json(t / "bench/manifest.json");
  EXPECT_EQ(m["inputs"]["corpus_digest"], read_json(t / "corpus/manifest.json")["content_digest"]);
  // A tampered corpus is refused before anything is built.
  write_atomic(t / "corpus/corpus.json", read_text(t / "corpus/corpus.json") + " ");
  r = test::run_cli("data build --corpus " + (t / "corpus").string() + " --preset tiny --out " + (t / "b2").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("digest mismatch"), std::string::npos) << r.output;
}

TEST(DataCli, ImportsIuXrayAndBuildsABenchmark) {
  test::TempDir t;
  fs::create_directories(t / "img");
  // 12 IU studies → synthetic patients of 2 studies → institutions of 2 patients:
  // 3 institutions, enough for the tiny preset (2 for fine-tuning, 1 held out).
  const char* sides[] = {"left", "right"};
  const char* findings[] = {"pleural effusion", "consolidation", "atelectasis", "pneumothorax"};
  std::string reports = "uid,MeSH,Problems,image,indication,comparison,findings,impression\n";
  std::string proj = "uid,filename,projection\n";
  for (int u = 1; u <= 12; ++u) {
    std::string f = findings[u % 4], s = sides[u % 2];
    reports += std::to_string(u) + ",normal,normal,Xray," + "\"Cough, fever " + std::to_string(u) +
               " days.\",None.,\"Small " + s + " " + f + ". Heart size normal. Study " + std::to_string(u) +
               ".\",\"" + s + " " + f + ", study " + std::to_string(u) + ".\"\n";
    std::string name = "CXR" + std::to_string(u) + "_1.png";
    proj += std::to_string(u) + "," + name + ",Frontal\n";
    cv::Mat img(80, 96, CV_8UC1, cv::Scalar(20 * (u % 10)));
    cv::imwrite((t / "img" / name).string(), img);
  }
  write_atomic(t / "reports.csv", reports);
  write_atomic(t / "proj.csv", proj);
  auto r = test::run_cli("data import-iu --reports " + (t / "reports.csv").string() + " --projections " +
                         (t / "proj.csv").string() + " --images " + (t / "img").string() + " --out " +
                         (t / "corpus").string() + " --studies-per-patient 2 --patients-per-institution 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 institutions"), std::string::npos) << r.output;
  r = test::run_cli("data build --corpus " + (t / "corpus").string() + " --preset tiny --out " + (t / "bench").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_cli("data check " + (t / "bench").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 institutions, 4 patients, 8 studies, 32 sections"), std::string::npos) << r.output;
  // A reports CSV without its findings column is named in the error.
  write_atomic(t / "bad.csv", std::string("uid,indication,impression\n1,x,y\n"));
  r = test::run_cli("data import-iu --reports " + (t / "bad.csv").string() + " --projections " +
                    (t / "proj.csv").string() + " --images " + (t / "img").string() + " --out " + (t / "c2").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("findings"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(t / "c2"));
}

// The corpus manifest records every input (with digests of the input files)
// and every option; the log names the summary at the corpus's final path, not
// at the staging directory that was renamed.
TEST(DataCli, ImportManifestRecordsEveryInputAndTheLogNamesTheFinalPath) {
  test::TempDir t;
  fs::create_directories(t / "img");
  std::string reports = "uid,indication,findings,impression\n";
  std::string proj = "uid,filename,projection\n";
  for (int u = 1; u <= 20; ++u) {
    // uids 9..20 have no findings: 12 skipped studies, more than the log lists.
    reports += std::to_string(u) + ",Cough.," + (u <= 8 ? "Clear lungs." : "") + ",Normal.\n";
    std::string name = "CXR" + std::to_string(u) + ".png";
    proj += std::to_string(u) + "," + name + ",Frontal\n";
    cv::imwrite((t / "img" / name).string(), cv::Mat(40, 40, CV_8UC1, cv::Scalar(9 * u)));
  }
  write_atomic(t / "reports.csv", reports);
  write_atomic(t / "proj.csv", proj);
  // The log lines are info lines: make sure they are not silenced.
  auto r = test::run_command("MEDFORGET_QUIET=0 " + std::string(MEDFORGET_BIN) + " data import-iu --reports " +
                             (t / "reports.csv").string() + " --projections " + (t / "proj.csv").string() +
                             " --images " + (t / "img").string() + " --out " + (t / "corpus").string() +
                             " --image-size 32 --studies-per-patient 2 --patients-per-institution 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 more skipped studies listed in " + (t / "corpus" / "import_summary.json").string()),
            std::string::npos)
      << r.output;
  EXPECT_EQ(r.output.find(".tmp-"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(t / "corpus" / "import_summary.json"));

  Json m = read_json(t / "corpus" / "manifest.json");
  EXPECT_EQ(m["params"]["importer"], "iu-xray");
  EXPECT_EQ(m["params"]["image_size"], 32);
  EXPECT_EQ(m["params"]["seed"], 1);
  EXPECT_EQ(m["params"]["patients_per_institution"], 2);
  EXPECT_EQ(m["params"]["iu_studies_per_patient"], 2);
  const Json& in = m["inputs"];
  EXPECT_EQ(in["reports"], fs::absolute(t / "reports.csv").string());
  EXPECT_EQ(in["reports_digest"], sha256_file(t / "reports.csv"));
  EXPECT_EQ(in["projections"], fs::absolute(t / "proj.csv").string());
  EXPECT_EQ(in["projections_digest"], sha256_file(t / "proj.csv"));
  EXPECT_EQ(in["images"], fs::absolute(t / "img").string());
}
