#pragma once
// Shared pieces of the corpus importers (MIMIC-CXR, IU X-ray): options, the
// import summary (every skipped study is counted and listed, never silently
// dropped), image conversion and synthetic dates. docs/IMPORTERS.md.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace medforget {

struct ImportOptions {
  int image_size = 64;               // output images are image_size x image_size grayscale PNG
  uint64_t seed = 1;                 // recorded in Corpus.seed (importers draw nothing random)
  int patients_per_institution = 8;  // eligible patients per synthetic institution
  int iu_studies_per_patient = 4;    // IU: consecutive eligible uids per synthetic patient
  int min_studies_per_patient = 4;   // MIMIC: eligible studies a patient needs
};
// Throws Error naming the first bad option.
void validate(const ImportOptions& o);
// The options an importer of `source` ("mimic-cxr" / "iu-xray") uses, with
// "importer": source: the corpus manifest's params.
Json import_params(const ImportOptions& o, const std::string& source);

struct SkippedStudy {
  std::string ref;     // report path (MIMIC) or "file:line uid N" (IU)
  std::string reason;  // category, e.g. "missing sections"
  std::string detail;  // e.g. "IMPRESSION"
};

struct ImportSummary {
  std::string source;           // "mimic-cxr" / "iu-xray"
  size_t studies_seen = 0;      // reports / rows found
  size_t studies_eligible = 0;  // with the four standard sections and an image
  size_t studies_imported = 0;  // in the returned corpus
  size_t patients_seen = 0;
  size_t patients_eligible = 0;  // MIMIC: >= min studies; IU: complete synthetic patients
  size_t patients_imported = 0;
  size_t institutions = 0;
  std::vector<SkippedStudy> skipped;  // one entry per study not imported
  // Every input the import read: absolute paths, and "<name>_digest" (SHA-256
  // of the bytes parsed) for each input file; the corpus manifest's inputs.
  Json inputs = Json::object();

  void skip(std::string ref, std::string reason, std::string detail = "");
  std::map<std::string, size_t> reason_counts() const;
  // "imported X studies of Y; skipped Z (reason: n, ...)"
  std::string to_string() const;
  Json to_json() const;
};

// Writes the summary to out_dir/import_summary.json.
void finish_import(const ImportSummary& summary, const std::filesystem::path& out_dir);
// Logs the summary (counts plus the first skipped studies with their paths),
// pointing to corpus_dir/import_summary.json for the rest: call it with the
// corpus directory's final path, once a staging directory has been renamed.
void log_import(const ImportSummary& summary, const std::filesystem::path& corpus_dir);

// Records input file `p` as inputs[name] (absolute path) and
// inputs[name + "_digest"] (SHA-256 of `bytes`, the text the importer parsed).
void record_input_file(ImportSummary& summary, const std::string& name,
                       const std::filesystem::path& p, const std::string& bytes);
// Records input directory `p` as inputs[name] (absolute path).
void record_input_dir(ImportSummary& summary, const std::string& name,
                      const std::filesystem::path& p);

// Decodes `src` with OpenCV, converts to 8-bit grayscale, centre-crops to a
// square, resizes with INTER_AREA to size x size and writes a PNG atomically to
// `dst`. Throws Error naming `src` if it is missing or cannot be decoded.
void convert_image(const std::filesystem::path& src, const std::filesystem::path& dst, int size);

// "YYYY-MM-DD" of `base` (days since 1970-01-01) plus `days`.
std::string date_from_days(int64_t days);
int64_t days_from_date(int y, int m, int d);
// "21800506" -> "2180-05-06"; "" if the text is not an 8-digit date.
std::string date_from_yyyymmdd(const std::string& s);

// "Synthetic Institution 01" / "inst_01" for the 0-based group index.
std::string synthetic_institution_id(size_t index);
std::string synthetic_institution_name(size_t index);

}  // namespace medforget
