// Importers on tiny fake MIMIC-CXR trees and IU X-ray CSVs built at test time.
#include <gtest/gtest.h>

#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "../test_util.hpp"
#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "data/import_iu.hpp"
#include "data/import_mimic.hpp"
#include "data/report_parser.hpp"

namespace medforget {
namespace {

namespace fs = std::filesystem;

std::string pid(int n) {
  char b[16];
  std::snprintf(b, sizeof b, "p%08d", 10000000 + n);
  return b;
}

std::string mimic_report(int study, bool impression = true) {
  std::string r =
      "                                 FINAL REPORT\n"
      " EXAMINATION:  CHEST (PA AND LAT)\n \n"
      " INDICATION:  ___F with cough, study " +
      std::to_string(study) +
      "\n \n"
      " COMPARISON:  ___\n \n"
      " FINDINGS: \n \n"
      " No focal consolidation.  Heart size is\n normal.\n \n";
  if (impression) r += " IMPRESSION: \n \n No acute cardiopulmonary process.\n";
  return r;
}

// A non-square image whose centre square is black and the rest white, so a
// centre crop gives a black image and a squash would not.
void write_image(const fs::path& p, int w = 48, int h = 24, bool color = false) {
  fs::create_directories(p.parent_path());
  cv::Mat m(h, w, color ? CV_8UC3 : CV_8UC1, cv::Scalar::all(255));
  int side = std::min(w, h);
  m(cv::Rect((w - side) / 2, (h - side) / 2, side, side)).setTo(cv::Scalar::all(0));
  ASSERT_TRUE(cv::imwrite(p.string(), m));
}

struct MimicTree {
  fs::path root;
  // Adds study sN for patient n: report (unless !report) and image (unless !image).
  fs::path add(int patient, long study, bool impression = true, bool image = true,
               bool report = true, const std::string& ext = ".jpg") {
    std::string p = pid(patient);
    fs::path dir = root / "files" / p.substr(0, 3) / p;
    fs::create_directories(dir);
    std::string s = "s" + std::to_string(study);
    if (report) write_atomic(dir / (s + ".txt"), mimic_report(static_cast<int>(study), impression));
    fs::path img = dir / s / ("view1" + ext);
    if (image) write_image(img, 48, 24, patient % 2 == 0);
    return img;
  }
};

ImportOptions small_options() {
  ImportOptions o;
  o.image_size = 16;
  return o;
}

// p1..p16 and p18: 4 complete studies; p17: 3. Extras: p3 a study without
// IMPRESSION, p5 a report with no sections, p7 a report without image, p8 an
// image directory without report.
void build_main_tree(MimicTree& t) {
  for (int p = 1; p <= 18; ++p) {
    int n = p == 17 ? 3 : 4;
    for (int k = 0; k < n; ++k) t.add(p, 50000000L + p * 100 + k);
  }
  t.add(3, 50000399, /*impression=*/false);
  std::string p5 = pid(5);
  write_atomic(t.root / "files" / p5.substr(0, 3) / p5 / "s50000599.txt",
               std::string("Preliminary note: lungs look fine.\n"));
  t.add(7, 50000799, true, /*image=*/false);
  t.add(8, 50000899, true, true, /*report=*/false);
}

TEST(ImportMimic, EligibilityGroupingAndSummary) {
  test::TempDir tmp;
  MimicTree t{tmp / "mimic"};
  build_main_tree(t);
  ImportSummary sum;
  Corpus c = import_mimic(t.root, tmp / "out", small_options(), &sum);

  EXPECT_EQ(c.source, "mimic-cxr");
  EXPECT_EQ(c.image_size, 16);
  EXPECT_EQ(c.seed, 1u);
  ASSERT_EQ(c.institutions.size(), 2u);
  EXPECT_EQ(c.institutions[0].id, "inst_01");
  EXPECT_EQ(c.institutions[0].name, "Synthetic Institution 01");
  EXPECT_EQ(c.institutions[1].id, "inst_02");
  std::vector<std::string> ids;
  for (const auto& inst : c.institutions) {
    ASSERT_EQ(inst.patients.size(), 8u);
    for (const auto& p : inst.patients) {
      ids.push_back(p.id);
      EXPECT_EQ(p.studies.size(), 4u) << p.id;
      EXPECT_EQ(p.age, 0);
      EXPECT_EQ(p.sex, "");
      EXPECT_EQ(p.name, "Patient " + p.id.substr(8));
    }
  }
  // Sorted patient order, p17 (3 studies) excluded, p18 in a dropped tail group.
  EXPECT_EQ(ids.front(), "patient_p10000001");
  EXPECT_EQ(c.institutions[0].patients.back().id, "patient_p10000008");
  EXPECT_EQ(c.institutions[1].patients.front().id, "patient_p10000009");
  EXPECT_EQ(ids.back(), "patient_p10000016");

  // The study without IMPRESSION is not imported; the patient still has 4.
  const PatientRecord& p3 = c.institutions[0].patients[2];
  ASSERT_EQ(p3.id, "patient_p10000003");
  for (const auto& s : p3.studies) EXPECT_NE(s.id, "study_chest_xray_50000399");
  EXPECT_EQ(p3.studies[0].id, "study_chest_xray_50000300");
  EXPECT_EQ(p3.studies[0].source_ref, "files/p10/p10000003/s50000300.txt");
  EXPECT_EQ(p3.studies[0].image, "images/study_chest_xray_50000300.png");
  // Synthetic dates follow study-id order, 30 days apart.
  EXPECT_EQ(p3.studies[0].date, "2150-01-01");
  EXPECT_EQ(p3.studies[1].date, "2150-01-31");
  EXPECT_EQ(p3.studies[3].date, "2150-04-01");

  EXPECT_EQ(sum.studies_seen, 75u);
  EXPECT_EQ(sum.studies_imported, 64u);
  EXPECT_EQ(sum.studies_eligible, 71u);
  EXPECT_EQ(sum.patients_eligible, 17u);
  EXPECT_EQ(sum.patients_imported, 16u);
  EXPECT_EQ(sum.institutions, 2u);
  EXPECT_EQ(sum.skipped.size(), 11u);
  auto counts = sum.reason_counts();
  EXPECT_EQ(counts["missing sections"], 1u);
  EXPECT_EQ(counts["no recognisable sections"], 1u);
  EXPECT_EQ(counts["no image"], 1u);
  EXPECT_EQ(counts["no report"], 1u);
  EXPECT_EQ(counts["patient has too few eligible studies"], 3u);
  EXPECT_EQ(counts["trailing institution group dropped"], 4u);
  bool listed = false;
  for (const auto& s : sum.skipped)
    if (s.ref == "files/p10/p10000005/s50000599.txt" && s.reason == "no recognisable sections")
      listed = true;
  EXPECT_TRUE(listed);
  for (const auto& s : sum.skipped)
    if (s.reason == "missing sections") {
      EXPECT_EQ(s.detail, "IMPRESSION");
    }
  std::string line = sum.to_string();
  EXPECT_NE(line.find("imported 64 studies of 75; skipped 11"), std::string::npos) << line;
  EXPECT_NE(line.find("no recognisable sections: 1"), std::string::npos) << line;

  // The summary is also written next to the images.
  Json j = read_json(tmp / "out" / "import_summary.json");
  EXPECT_EQ(j["studies_imported"], 64);
  EXPECT_EQ(j["skipped"].size(), 11u);
}

TEST(ImportMimic, ReportsReparseAndImagesAreResizedCentreCrops) {
  test::TempDir tmp;
  MimicTree t{tmp / "mimic"};
  for (int p = 1; p <= 2; ++p)
    for (int k = 0; k < 4; ++k)
      t.add(p, 50000000L + p * 100 + k, true, true, true, k % 2 ? ".png" : ".jpg");
  ImportOptions o = small_options();
  o.image_size = 20;
  o.patients_per_institution = 2;
  Corpus c = import_mimic(t.root, tmp / "out", o);
  ASSERT_EQ(c.institutions.size(), 1u);
  size_t n = 0;
  for (const auto& p : c.institutions[0].patients)
    for (const auto& s : p.studies) {
      ++n;
      // The original MIMIC text is kept and re-parses with the four sections.
      ParsedReport r = parse_report(s.report_text, s.source_ref);
      EXPECT_TRUE(r.has_standard_four()) << s.id;
      EXPECT_EQ(r.get("EXAMINATION"), "CHEST (PA AND LAT)");
      EXPECT_TRUE(s.findings.empty());
      cv::Mat img = cv::imread((tmp / "out" / s.image).string(), cv::IMREAD_UNCHANGED);
      ASSERT_FALSE(img.empty()) << s.image;
      EXPECT_EQ(img.rows, 20);
      EXPECT_EQ(img.cols, 20);
      EXPECT_EQ(img.channels(), 1);
      // A squash of the whole image would be half white (mean ~128).
      EXPECT_LT(cv::mean(img)[0], 30.0)
          << "centre crop of a white-bordered black square must be dark: " << s.image;
    }
  EXPECT_EQ(n, 8u);
}

TEST(ImportMimic, MetadataDatesOrderStudies) {
  test::TempDir tmp;
  MimicTree t{tmp / "mimic"};
  for (int k = 0; k < 4; ++k) t.add(1, 50000100L + k);
  // Dates run opposite to the study ids; one study has no metadata row.
  write_atomic(t.root / "mimic-cxr-2.0.0-metadata.csv",
               std::string("dicom_id,subject_id,study_id,ViewPosition,StudyDate,StudyTime\n"
                           "d1,10000001,50000100,PA,21800506,101010.0\n"
                           "d2,10000001,50000100,LATERAL,21800506,101010.0\n"
                           "d3,10000001,50000101,PA,21790102,0.0\n"
                           "d4,10000001,50000102,PA,21781231,0.0\n"));
  ImportOptions o = small_options();
  o.patients_per_institution = 1;
  Corpus c = import_mimic(t.root, tmp / "out", o);
  const auto& st = c.institutions.at(0).patients.at(0).studies;
  ASSERT_EQ(st.size(), 4u);
  // Studies are ordered by date; the one without a metadata row gets a
  // synthesised 2150 date (and a warning), which sorts first.
  EXPECT_EQ(st[0].id, "study_chest_xray_50000103");
  EXPECT_EQ(st[0].date, "2150-04-01");
  EXPECT_EQ(st[1].id, "study_chest_xray_50000102");
  EXPECT_EQ(st[1].date, "2178-12-31");
  EXPECT_EQ(st[2].id, "study_chest_xray_50000101");
  EXPECT_EQ(st[2].date, "2179-01-02");
  EXPECT_EQ(st[3].id, "study_chest_xray_50000100");
  EXPECT_EQ(st[3].date, "2180-05-06");
}

TEST(ImportMimic, Deterministic) {
  test::TempDir tmp;
  MimicTree t{tmp / "mimic"};
  for (int p = 1; p <= 2; ++p)
    for (int k = 0; k < 4; ++k) t.add(p, 50000000L + p * 100 + k);
  ImportOptions o = small_options();
  o.patients_per_institution = 2;
  Corpus a = import_mimic(t.root, tmp / "a", o);
  Corpus b = import_mimic(t.root, tmp / "b", o);
  ASSERT_EQ(a.institutions.size(), b.institutions.size());
  for (size_t i = 0; i < a.institutions.size(); ++i)
    for (size_t p = 0; p < a.institutions[i].patients.size(); ++p)
      for (size_t s = 0; s < a.institutions[i].patients[p].studies.size(); ++s) {
        const auto& x = a.institutions[i].patients[p].studies[s];
        const auto& y = b.institutions[i].patients[p].studies[s];
        EXPECT_EQ(x.id, y.id);
        EXPECT_EQ(x.date, y.date);
        EXPECT_EQ(x.report_text, y.report_text);
        EXPECT_EQ(read_bytes(tmp / "a" / x.image), read_bytes(tmp / "b" / y.image));
      }
}

TEST(ImportMimic, CorruptImageIsAnErrorNamingTheFile) {
  test::TempDir tmp;
  MimicTree t{tmp / "mimic"};
  for (int k = 0; k < 4; ++k) t.add(1, 50000100L + k);
  fs::path bad = t.add(1, 50000104);
  write_atomic(bad, std::string("this is not a JPEG"));
  ImportOptions o = small_options();
  o.patients_per_institution = 1;
  try {
    import_mimic(t.root, tmp / "out", o);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(bad.string()), std::string::npos) << m;
    EXPECT_NE(m.find("cannot decode image"), std::string::npos) << m;
  }
}

TEST(ImportMimic, NoReportsOrBadOptionsAreErrors) {
  test::TempDir tmp;
  fs::create_directories(tmp / "empty" / "files");
  EXPECT_THROW(import_mimic(tmp / "empty", tmp / "out", small_options()), Error);
  EXPECT_THROW(import_mimic(tmp / "nowhere", tmp / "out", small_options()), Error);
  ImportOptions o = small_options();
  o.patients_per_institution = 0;
  MimicTree t{tmp / "mimic"};
  t.add(1, 50000100);
  EXPECT_THROW(import_mimic(t.root, tmp / "out", o), Error);
}

// ---------------------------------------------------------------- IU X-ray

struct IuFixture {
  fs::path dir;
  fs::path reports() const { return dir / "indiana_reports.csv"; }
  fs::path projections() const { return dir / "indiana_projections.csv"; }
  fs::path images() const { return dir / "images"; }
};

std::string img_name(int uid, int view) {
  return std::to_string(uid) + "_IM-" + std::to_string(1000 + uid) + "-" + std::to_string(view) +
         ".dcm.png";
}

// uids 1..40, written in reverse order. uid 5: empty findings; 9: empty
// impression; 12: lateral only; 2: frontal only; 3: multi-line quoted findings.
IuFixture build_iu(const fs::path& dir) {
  IuFixture f{dir};
  std::string rep = "uid,MeSH,Problems,image,indication,comparison,findings,impression\n";
  std::string proj = "uid,filename,projection\n";
  for (int uid = 40; uid >= 1; --uid) {
    std::string findings =
        uid == 5 ? "" : "\"The heart is normal in size, uid " + std::to_string(uid) + ".\"";
    if (uid == 3) findings = "\"The heart is normal.\nThe lungs are \"\"clear\"\", no effusion.\"";
    std::string impression = uid == 9 ? "" : "No acute disease.";
    rep += std::to_string(uid) +
           ",normal,normal,\"Xray Chest PA and Lateral\",\"XXXX-year-old male, cough.\"," +
           (uid % 3 ? "None." : "") + "," + findings + "," + impression + "\n";
    if (uid != 12) {
      proj += std::to_string(uid) + "," + img_name(uid, 1001) + ",Frontal\n";
      write_image(f.images() / img_name(uid, 1001), 30, 40, uid % 2 == 0);
    }
    if (uid != 2) {
      proj += std::to_string(uid) + "," + img_name(uid, 2001) + ",Lateral\n";
      write_image(f.images() / img_name(uid, 2001), 30, 40);
    }
  }
  write_atomic(f.reports(), rep);
  write_atomic(f.projections(), proj);
  return f;
}

TEST(ImportIu, SyntheticPatientsInstitutionsAndSummary) {
  test::TempDir tmp;
  IuFixture f = build_iu(tmp / "iu");
  ImportSummary sum;
  Corpus c =
      import_iu(f.reports(), f.projections(), f.images(), tmp / "out", small_options(), &sum);
  EXPECT_EQ(c.source, "iu-xray");
  ASSERT_EQ(c.institutions.size(), 1u);  // 37 eligible -> 9 patients -> 1 institution of 8
  const auto& inst = c.institutions[0];
  EXPECT_EQ(inst.id, "inst_01");
  ASSERT_EQ(inst.patients.size(), 8u);
  EXPECT_EQ(inst.patients[0].id, "patient_iu_0001");
  EXPECT_EQ(inst.patients[7].id, "patient_iu_0008");
  auto uids_of = [](const PatientRecord& p) {
    std::vector<std::string> v;
    for (const auto& s : p.studies) v.push_back(s.id.substr(17));
    return v;
  };
  // Numeric uid order, skipping 5 (no findings), 9 (no impression), 12 (no frontal).
  EXPECT_EQ(uids_of(inst.patients[0]), (std::vector<std::string>{"1", "2", "3", "4"}));
  EXPECT_EQ(uids_of(inst.patients[1]), (std::vector<std::string>{"6", "7", "8", "10"}));
  EXPECT_EQ(uids_of(inst.patients[2]), (std::vector<std::string>{"11", "13", "14", "15"}));
  EXPECT_EQ(uids_of(inst.patients[7]), (std::vector<std::string>{"32", "33", "34", "35"}));

  const StudyRecord& s1 = inst.patients[0].studies[0];
  EXPECT_EQ(s1.id, "study_chest_xray_1");
  EXPECT_EQ(
      s1.report_text,
      "EXAMINATION: CHEST (PA AND LAT)\nINDICATION: XXXX-year-old male, cough.\nCOMPARISON: None.\n"
      "FINDINGS: The heart is normal in size, uid 1.\nIMPRESSION: No acute disease.\n");
  EXPECT_EQ(s1.date, "2150-01-01");
  EXPECT_EQ(inst.patients[0].studies[3].date, "2150-04-01");
  EXPECT_NE(s1.source_ref.find("uid 1"), std::string::npos);
  EXPECT_NE(s1.source_ref.find(img_name(1, 1001)), std::string::npos);
  const StudyRecord& s2 = inst.patients[0].studies[1];  // frontal only
  EXPECT_EQ(s2.report_text.substr(0, 24), "EXAMINATION: CHEST (PA)\n");
  const StudyRecord& s3 = inst.patients[0].studies[2];
  ParsedReport r3 = parse_report(s3.report_text, s3.id);
  EXPECT_EQ(r3.get("FINDINGS"), "The heart is normal. The lungs are \"clear\", no effusion.");
  EXPECT_FALSE(r3.has("COMPARISON"));  // uid 3: empty comparison column
  for (const auto& p : inst.patients) {
    EXPECT_EQ(p.name, "IU Patient " + p.id.substr(11));
    for (const auto& s : p.studies) {
      EXPECT_TRUE(parse_report(s.report_text, s.id).has_standard_four()) << s.id;
      cv::Mat img = cv::imread((tmp / "out" / s.image).string(), cv::IMREAD_UNCHANGED);
      ASSERT_FALSE(img.empty());
      EXPECT_EQ(img.size(), cv::Size(16, 16));
      EXPECT_EQ(img.channels(), 1);
    }
  }

  EXPECT_EQ(sum.studies_seen, 40u);
  EXPECT_EQ(sum.studies_eligible, 37u);
  EXPECT_EQ(sum.studies_imported, 32u);
  EXPECT_EQ(sum.patients_eligible, 9u);
  EXPECT_EQ(sum.patients_imported, 8u);
  auto counts = sum.reason_counts();
  EXPECT_EQ(counts["missing sections"], 2u);
  EXPECT_EQ(counts["no frontal image"], 1u);
  EXPECT_EQ(counts["trailing synthetic patient group dropped"], 1u);  // uid 40
  EXPECT_EQ(counts["trailing institution group dropped"], 4u);        // uids 36..39
  EXPECT_EQ(sum.skipped.size(), 8u);
  EXPECT_NE(sum.to_string().find("imported 32 studies of 40; skipped 8"), std::string::npos)
      << sum.to_string();
}

TEST(ImportIu, GroupSizesFollowOptionsAndDeterminism) {
  test::TempDir tmp;
  IuFixture f = build_iu(tmp / "iu");
  ImportOptions o = small_options();
  o.iu_studies_per_patient = 3;
  o.patients_per_institution = 4;
  Corpus a = import_iu(f.reports(), f.projections(), f.images(), tmp / "a", o);
  Corpus b = import_iu(f.reports(), f.projections(), f.images(), tmp / "b", o);
  // 37 eligible -> 12 patients of 3 -> 3 institutions of 4.
  ASSERT_EQ(a.institutions.size(), 3u);
  for (const auto& inst : a.institutions) {
    ASSERT_EQ(inst.patients.size(), 4u);
    for (const auto& p : inst.patients) EXPECT_EQ(p.studies.size(), 3u);
  }
  EXPECT_EQ(a.institutions[2].id, "inst_03");
  EXPECT_EQ(a.institutions[2].patients[3].id, "patient_iu_0012");
  for (size_t i = 0; i < a.institutions.size(); ++i)
    for (size_t p = 0; p < 4; ++p)
      for (size_t s = 0; s < 3; ++s) {
        const auto& x = a.institutions[i].patients[p].studies[s];
        const auto& y = b.institutions[i].patients[p].studies[s];
        EXPECT_EQ(x.report_text, y.report_text);
        EXPECT_EQ(read_bytes(tmp / "a" / x.image), read_bytes(tmp / "b" / y.image));
      }
}

// The importer does not write corpus.json; what it returns must round-trip
// through save_corpus_json / load_corpus (which checks the image files exist).
TEST(ImportIu, ResultSavesAndLoadsAsACorpus) {
  test::TempDir tmp;
  IuFixture f = build_iu(tmp / "iu");
  Corpus c = import_iu(f.reports(), f.projections(), f.images(), tmp / "out", small_options());
  EXPECT_FALSE(fs::exists(tmp / "out" / "corpus.json"));
  save_corpus_json(c, tmp / "out");
  Corpus back = load_corpus(tmp / "out");
  EXPECT_EQ(back.source, "iu-xray");
  EXPECT_EQ(back.image_size, 16);
  ASSERT_EQ(back.institutions.size(), 1u);
  ASSERT_EQ(back.institutions[0].patients.size(), 8u);
  EXPECT_EQ(back.institutions[0].patients[1].studies[3].report_text,
            c.institutions[0].patients[1].studies[3].report_text);
}

std::string iu_error(const IuFixture& f, const fs::path& out) {
  try {
    import_iu(f.reports(), f.projections(), f.images(), out, small_options());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ImportIu, MissingColumnsAreNamed) {
  test::TempDir tmp;
  IuFixture f = build_iu(tmp / "iu");
  write_atomic(f.reports(), std::string("uid,MeSH,indication,comparison\n1,normal,cough,None\n"));
  std::string m = iu_error(f, tmp / "out");
  EXPECT_NE(m.find(f.reports().string()), std::string::npos) << m;
  EXPECT_NE(m.find("'findings'"), std::string::npos) << m;
  EXPECT_NE(m.find("'impression'"), std::string::npos) << m;

  IuFixture g = build_iu(tmp / "iu2");
  write_atomic(g.projections(), std::string("uid,filename\n1,a.png\n"));
  m = iu_error(g, tmp / "out");
  EXPECT_NE(m.find(g.projections().string()), std::string::npos) << m;
  EXPECT_NE(m.find("'projection'"), std::string::npos) << m;
}

TEST(ImportIu, UnterminatedQuoteNamesLine) {
  test::TempDir tmp;
  IuFixture f = build_iu(tmp / "iu");
  write_atomic(f.reports(), std::string("uid,indication,findings,impression\n"
                                        "1,cough,\"clear lungs\",normal\n"
                                        "2,cough,\"the quote never closes,normal\n"
                                        "3,cough,clear,normal\n"));
  std::string m = iu_error(f, tmp / "out");
  EXPECT_NE(m.find(f.reports().string() + ":3"), std::string::npos) << m;
  EXPECT_NE(m.find("unterminated"), std::string::npos) << m;
}

TEST(ImportIu, BadAndDuplicateUidsNameTheLine) {
  test::TempDir tmp;
  IuFixture f = build_iu(tmp / "iu");
  write_atomic(f.reports(),
               std::string("uid,indication,findings,impression\n1,a,b,c\nabc,a,b,c\n"));
  std::string m = iu_error(f, tmp / "out");
  EXPECT_NE(m.find(f.reports().string() + ":3: field 'uid'"), std::string::npos) << m;
  write_atomic(f.reports(),
               std::string("uid,indication,findings,impression\n1,a,b,c\n2,a,b,c\n1,a,b,c\n"));
  m = iu_error(f, tmp / "out");
  EXPECT_NE(m.find(":4"), std::string::npos) << m;
  EXPECT_NE(m.find("duplicate uid 1"), std::string::npos) << m;
}

TEST(ImportIu, CorruptImageIsNamed) {
  test::TempDir tmp;
  IuFixture f = build_iu(tmp / "iu");
  fs::path bad = f.images() / img_name(7, 1001);
  write_atomic(bad, std::string("\x89PNG garbage"));
  std::string m = iu_error(f, tmp / "out");
  EXPECT_NE(m.find(bad.string()), std::string::npos) << m;
  // A frontal image listed but absent is an error naming it too.
  IuFixture g = build_iu(tmp / "iu2");
  fs::remove(g.images() / img_name(4, 1001));
  m = iu_error(g, tmp / "out2");
  EXPECT_NE(m.find(img_name(4, 1001)), std::string::npos) << m;
}

// A field that repeats its own header is imported without it; a field that
// holds another section's header is still ambiguous.
TEST(ImportIu, FieldRepeatingItsOwnHeaderIsStripped) {
  test::TempDir tmp;
  IuFixture f{tmp / "iu"};
  std::string rep = "uid,indication,comparison,findings,impression\n"
                    "1,\"INDICATION: Chest pain.\",None.,The heart is normal.,No acute disease.\n"
                    "2,Cough.,COMPARISON: None.,\"Findings: Lungs are clear.\",Normal.\n"
                    "3,Fever.,,Clear.,\"IMPRESSION: IMPRESSION: Normal chest.\"\n"
                    "4,Dyspnea.,,\"IMPRESSION: clear\",Normal.\n"
                    "5,\"INDICATION:\",,Clear.,Normal.\n";
  std::string proj = "uid,filename,projection\n";
  for (int uid = 1; uid <= 5; ++uid) {
    proj += std::to_string(uid) + "," + img_name(uid, 1001) + ",Frontal\n";
    write_image(f.images() / img_name(uid, 1001));
  }
  write_atomic(f.reports(), rep);
  write_atomic(f.projections(), proj);
  ImportOptions o = small_options();
  o.iu_studies_per_patient = 1;
  o.patients_per_institution = 1;
  ImportSummary sum;
  Corpus c = import_iu(f.reports(), f.projections(), f.images(), tmp / "out", o, &sum);
  ASSERT_EQ(c.institutions.size(), 3u) << sum.to_string();
  auto text = [&](size_t i) { return c.institutions[i].patients.at(0).studies.at(0).report_text; };
  EXPECT_EQ(text(0),
            "EXAMINATION: CHEST (PA)\nINDICATION: Chest pain.\nCOMPARISON: None.\n"
            "FINDINGS: The heart is normal.\nIMPRESSION: No acute disease.\n");
  EXPECT_EQ(text(1),
            "EXAMINATION: CHEST (PA)\nINDICATION: Cough.\nCOMPARISON: None.\n"
            "FINDINGS: Lungs are clear.\nIMPRESSION: Normal.\n");
  EXPECT_EQ(parse_report(text(2), "uid 3").get("IMPRESSION"), "Normal chest.");
  auto counts = sum.reason_counts();
  EXPECT_EQ(counts["ambiguous section text"], 1u);  // uid 4
  EXPECT_EQ(counts["missing sections"], 1u);        // uid 5: nothing after the header
  EXPECT_EQ(sum.skipped.size(), 2u);
}

TEST(ImportIu, SummaryRecordsEveryInputWithDigests) {
  test::TempDir tmp;
  IuFixture f = build_iu(tmp / "iu");
  ImportSummary sum;
  import_iu(f.reports(), f.projections(), f.images(), tmp / "out", small_options(), &sum);
  EXPECT_EQ(sum.inputs["reports"], fs::absolute(f.reports()).string());
  EXPECT_EQ(sum.inputs["reports_digest"], sha256_file(f.reports()));
  EXPECT_EQ(sum.inputs["projections"], fs::absolute(f.projections()).string());
  EXPECT_EQ(sum.inputs["projections_digest"], sha256_file(f.projections()));
  EXPECT_EQ(sum.inputs["images"], fs::absolute(f.images()).string());
  EXPECT_EQ(read_json(tmp / "out" / "import_summary.json")["inputs"], sum.inputs);
  Json p = import_params(small_options(), sum.source);
  EXPECT_EQ(p["importer"], "iu-xray");
  EXPECT_EQ(p["image_size"], 16);
  EXPECT_EQ(p["patients_per_institution"], 8);
  EXPECT_EQ(p["iu_studies_per_patient"], 4);
  EXPECT_EQ(p["seed"], 1);
}

TEST(ImportMimic, SummaryRecordsInputsWithDigests) {
  test::TempDir tmp;
  MimicTree t{tmp / "mimic"};
  for (int k = 0; k < 4; ++k) t.add(1, 50000100L + k);
  ImportOptions o = small_options();
  o.patients_per_institution = 1;
  ImportSummary sum;
  import_mimic(t.root, tmp / "a", o, &sum);
  EXPECT_EQ(sum.inputs["root"], fs::absolute(t.root).string());
  EXPECT_TRUE(sum.inputs["metadata"].is_null()) << sum.inputs.dump();
  fs::path meta = t.root / "mimic-cxr-2.0.0-metadata.csv";
  write_atomic(meta, std::string("dicom_id,study_id,StudyDate\nd1,50000100,21800506\n"));
  import_mimic(t.root, tmp / "b", o, &sum);
  EXPECT_EQ(sum.inputs["metadata"], fs::absolute(meta).string());
  EXPECT_EQ(sum.inputs["metadata_digest"], sha256_file(meta));
  Json p = import_params(o, sum.source);
  EXPECT_EQ(p["importer"], "mimic-cxr");
  EXPECT_EQ(p["min_studies_per_patient"], 4);
  EXPECT_EQ(p["patients_per_institution"], 1);
  EXPECT_FALSE(p.contains("iu_studies_per_patient"));
}

}  // namespace
}  // namespace medforget
