#pragma once
// MIMIC-CXR(-JPG) importer: files/pNN/pNNNNNNNN/sNNNNNNNN.txt reports plus
// files/pNN/pNNNNNNNN/sNNNNNNNN/*.jpg|*.png images -> Corpus with synthetic
// institutions of options.patients_per_institution patients. docs/IMPORTERS.md.
#include <filesystem>

#include "data/corpus.hpp"
#include "data/import_common.hpp"

namespace medforget {

// Scans `root` (the directory holding files/, or files/ itself), keeps studies
// whose report has EXAMINATION, INDICATION, FINDINGS and IMPRESSION and an
// image, patients with >= options.min_studies_per_patient such studies, and
// groups them (sorted by patient id) into institutions; a trailing short group
// is dropped. Writes out_dir/images/<study_id>.png and out_dir/import_summary.json
// (not corpus.json). Dates come from root/mimic-cxr-2.0.0-metadata.csv (StudyDate)
// when present, else are synthesised from study-id order. Every skipped study is
// listed in the summary (filled in when `summary` is given, always logged).
// Throws Error naming the file for an unreadable report or undecodable image.
Corpus import_mimic(const std::filesystem::path& root, const std::filesystem::path& out_dir,
                    const ImportOptions& options, ImportSummary* summary = nullptr);

}  // namespace medforget
