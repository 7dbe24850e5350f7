// The benchmark builder on imported corpora: every section an importer accepts
// either yields its tasks or is left out up front and counted, and a build
// error names the study (and section) it is about.
#include <gtest/gtest.h>

#include <functional>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "data/benchmark.hpp"
#include "data/import_iu.hpp"
#include "data/item.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

struct IuFields {
  std::string indication, comparison, findings, impression;
};

// An IU X-ray import of 12 uids with the given fields: synthetic patients of 2
// studies, institutions of 2 patients (3 institutions: the tiny preset's 2 for
// fine-tuning and 1 held out). Returns the corpus directory.
fs::path import_corpus(const fs::path& dir, const std::function<IuFields(int)>& fields) {
  fs::create_directories(dir / "img");
  const char* finding[] = {"pleural effusion", "consolidation", "atelectasis", "pneumothorax"};
  std::string rep = "uid,indication,comparison,findings,impression\n";
  std::string proj = "uid,filename,projection\n";
  for (int u = 1; u <= 12; ++u) {
    IuFields f = fields(u);
    if (f.findings.empty())
      f.findings = "Small " + std::string(u % 2 ? "left " : "right ") + finding[u % 4] + ". Study " +
                   std::to_string(u) + ".";
    if (f.impression.empty()) f.impression = std::string(finding[u % 4]) + ", study " + std::to_string(u) + ".";
    rep += std::to_string(u) + ",\"" + f.indication + "\",\"" + f.comparison + "\",\"" + f.findings + "\",\"" +
           f.impression + "\"\n";
    std::string name = "CXR" + std::to_string(u) + ".png";
    proj += std::to_string(u) + "," + name + ",Frontal\n";
    cv::imwrite((dir / "img" / name).string(), cv::Mat(40, 48, CV_8UC1, cv::Scalar(15 * u)));
  }
  write_atomic(dir / "reports.csv", rep);
  write_atomic(dir / "proj.csv", proj);
  ImportOptions o;
  o.image_size = 32;
  o.iu_studies_per_patient = 2;
  o.patients_per_institution = 2;
  fs::path out = dir / "corpus";
  Corpus c = import_iu(dir / "reports.csv", dir / "proj.csv", dir / "img", out, o);
  EXPECT_EQ(c.institutions.size(), 3u);
  save_corpus_json(c, out);
  return out;
}

Json build(const fs::path& corpus, uint64_t seed, const fs::path& out) {
  return build_benchmark(load_corpus(corpus), corpus, data_preset("tiny"), seed, out, {{"corpus", "test"}});
}

}  // namespace

// An indication of "CP" or "TB" is a section the importer accepts: the
// builder makes its three tasks, whatever the seed.
TEST(BenchmarkImport, TwoCharacterAbbreviationSectionsYieldTheirTasks) {
  test::TempDir t;
  fs::path corpus = import_corpus(t / "iu", [](int u) { return IuFields{u % 2 ? "CP" : "TB", "", "", ""}; });
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    fs::path out = t / ("bench" + std::to_string(seed));
    Json m;
    ASSERT_NO_THROW(m = build(corpus, seed, out)) << "seed " << seed;
    EXPECT_EQ(m["counts"]["sections"], 32) << "seed " << seed;
    EXPECT_EQ(m["selection"]["sections_unusable"], 0);
    EXPECT_NO_THROW(check_benchmark(out));
    std::set<std::string> tasks;
    for (const auto& it : read_items(out / "finetune.jsonl")) {
      if (it.section_name != "INDICATION") continue;
      tasks.insert(it.task);
      if (it.task == "generation" || it.task == "cloze") {
        EXPECT_TRUE(it.answer == "CP" || it.answer == "TB") << it.id;
      }
      if (it.task == "classification") {
        EXPECT_TRUE(it.answer == "CP" || it.answer == "TB") << it.id;
        EXPECT_EQ(std::set<std::string>(it.options.begin(), it.options.end()).size(), 4u) << it.id;
      }
    }
    EXPECT_EQ(tasks, (std::set<std::string>{"generation", "cloze", "classification"})) << "seed " << seed;
  }
}

// A section with no letter or digit (MIMIC's "___" de-identification mark) has
// nothing to ask about: it is left out before sampling and counted.
TEST(BenchmarkImport, SectionsWithNothingToAskAboutAreLeftOutAndCounted) {
  test::TempDir t;
  fs::path corpus = import_corpus(t / "iu", [](int u) { return IuFields{"Cough.", "___", "", ""}; });
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    fs::path out = t / ("bench" + std::to_string(seed));
    Json m;
    ASSERT_NO_THROW(m = build(corpus, seed, out)) << "seed " << seed;
    EXPECT_EQ(m["selection"]["sections_unusable"], 12);  // every study's COMPARISON
    EXPECT_EQ(m["counts"]["sections"], 32);
    for (const auto& it : read_items(out / "finetune.jsonl")) EXPECT_NE(it.section_name, "COMPARISON") << it.id;
    EXPECT_NO_THROW(check_benchmark(out));
  }
  // A standard section left out makes its study incomplete, like an empty one.
  fs::path bad = import_corpus(t / "iu2", [](int u) { return IuFields{u == 1 ? "." : "Cough.", "", "", ""}; });
  Json m = build(bad, 1, t / "bench-bad");
  EXPECT_EQ(m["selection"]["sections_unusable"], 1);
  EXPECT_EQ(m["selection"]["studies_incomplete"], 1);
}

TEST(BenchmarkImport, BuildErrorsNameTheStudy) {
  test::TempDir t;
  fs::path corpus = import_corpus(t / "iu", [](int u) { return IuFields{"Cough.", "", "", ""}; });
  for (const auto& e : fs::directory_iterator(corpus / "images")) write_atomic(e.path(), std::string("not a PNG"));
  std::string m = test::error_of([&] { build(corpus, 1, t / "bench"); });
  test::expect_contains(m, "data build: study 'study_chest_xray_");
  EXPECT_FALSE(fs::exists(t / "bench"));
}
