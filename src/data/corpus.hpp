#pragma once
// A corpus: institutions, patients and studies with free-text reports and
// images, before any benchmark sampling. Produced by the synthetic generator and
// by the importers; stored as DIR/corpus.json + DIR/images/ + DIR/manifest.json.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "data/findings.hpp"

namespace medforget {

struct StudyRecord {
  std::string id;           // "study_chest_xray_481"
  std::string date;         // "2019-03-14"
  std::string report_text;  // raw free text, sections in the house style
  std::string image;        // path relative to the corpus directory
  std::vector<Finding> findings;  // ground truth (synthetic); empty for imports
  std::string source_ref;   // original file / uid for imported studies
};

struct PatientRecord {
  std::string id;    // "patient_0007"
  std::string name;  // "Andrew Lewis"
  int age = 0;
  std::string sex;   // "M" / "F" / ""
  std::vector<StudyRecord> studies;
};

struct InstitutionRecord {
  std::string id;    // "inst_03"
  std::string name;  // "Elm Medical Foundation"
  Json style = Json::object();  // house style parameters (report + acquisition)
  std::vector<PatientRecord> patients;
};

struct Corpus {
  std::string source;  // "synthetic", "mimic-cxr", "iu-xray"
  uint64_t seed = 0;
  int image_size = 64;
  std::vector<InstitutionRecord> institutions;
};

Json finding_to_json(const Finding& f);
Finding finding_from_json(const Json& j, const JsonCtx& ctx);

// Writes corpus.json (atomically); images are written by the producer.
void save_corpus_json(const Corpus& c, const std::filesystem::path& dir);
// Reads and validates corpus.json: duplicate ids, missing fields and missing
// image files are errors naming the record.
Corpus load_corpus(const std::filesystem::path& dir);
// What a benchmark built from `dir` records as its input: the manifest's content
// digest, verified against the files (a corpus made by medforget), else the
// sha256 of corpus.json (a hand-made one). Error naming the directory on mismatch.
std::string corpus_digest(const std::filesystem::path& dir);

}  // namespace medforget
