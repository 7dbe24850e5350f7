#pragma once
// Open-i / IU X-ray importer: a reports CSV (uid, MeSH, Problems, image,
// indication, comparison, findings, impression) and a projections CSV (uid,
// filename, projection) -> Corpus. IU has one study per patient, so every
// options.iu_studies_per_patient consecutive eligible uids form a synthetic
// patient and every options.patients_per_institution synthetic patients an
// institution. docs/IMPORTERS.md gives the exact rules.
#include <filesystem>

#include "data/corpus.hpp"
#include "data/import_common.hpp"

namespace medforget {

// Writes out_dir/images/<study_id>.png and out_dir/import_summary.json (not
// corpus.json). Throws Error naming the file and missing column(s), a bad or
// duplicate uid (file:line), or an undecodable image file.
Corpus import_iu(const std::filesystem::path& reports_csv,
                 const std::filesystem::path& projections_csv,
                 const std::filesystem::path& images_dir, const std::filesystem::path& out_dir,
                 const ImportOptions& options, ImportSummary* summary = nullptr);

}  // namespace medforget
