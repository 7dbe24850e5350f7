// corpus.json: what load_corpus refuses, and how it says so.
// (Corpora made by the generator and the importers are tested with them.)
#include "data/corpus.hpp"

#include <gtest/gtest.h>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "test_util.hpp"

using namespace medforget;

namespace {

Corpus one_study(const std::string& image) {
  Corpus c;
  c.source = "synthetic";
  c.image_size = 64;
  InstitutionRecord in;
  in.id = "inst_01";
  in.name = "Elm Medical Foundation";
  PatientRecord p;
  p.id = "patient_0001";
  p.name = "Andrew Lewis";
  p.age = 68;
  p.sex = "M";
  StudyRecord s;
  s.id = "study_a";
  s.date = "2016-04-23";
  s.report_text = "FINDINGS: Clear.\nIMPRESSION: Normal.\n";
  s.image = image;
  p.studies.push_back(s);
  in.patients.push_back(p);
  c.institutions.push_back(in);
  return c;
}

}  // namespace

// An image path longer than the system takes (each component a valid id, the
// whole over PATH_MAX) is an error naming the study, not std::filesystem_error
// escaping from the existence check (found by fuzz/corpus_fuzz).
TEST(Corpus, OverlongImagePathIsAnErrorNamingTheStudy) {
  test::TempDir t;
  std::string image = "images";
  for (int i = 0; i < 40; ++i) image += "/" + std::string(120, 'a');
  save_corpus_json(one_study(image), t.path());
  std::string m = test::error_of([&] { load_corpus(t.path()); });
  test::expect_contains(m, "patient 'patient_0001' study #1");
  test::expect_contains(m, "'image'");
  // A path through a file is missing too.
  std::filesystem::create_directories(t / "images");
  write_atomic(t / "images/a.png", std::string("png"));
  save_corpus_json(one_study("images/a.png/b.png"), t.path());
  test::expect_contains(test::error_of([&] { load_corpus(t.path()); }), "is missing");
}
