#pragma once
// The paper's section-3 sampling: keep studies with the four standard
// sections, patients with enough such studies, sample studies per patient and
// sections per study, institutions for fine-tuning and held-out ones for the
// general set.
#include <string>
#include <vector>

#include "core/rng.hpp"
#include "data/corpus.hpp"
#include "data/preset.hpp"
#include "data/report_parser.hpp"

namespace medforget {

struct SelStudy {
  const StudyRecord* rec;
  std::vector<ReportSection> sections;  // the sampled sections, in report order
};
struct SelPatient {
  const PatientRecord* rec;
  std::vector<SelStudy> studies;
};
struct SelInstitution {
  const InstitutionRecord* rec;
  std::vector<SelPatient> patients;
};

struct Selection {
  std::vector<SelInstitution> finetune, general;
  // Eligibility bookkeeping, reported by `data build` (nothing is dropped silently).
  size_t studies_total = 0, studies_incomplete = 0, patients_total = 0, patients_ineligible = 0;
  // Non-empty sections left out before sampling because no task can be built
  // from them (no letter or digit: "___", "."); they count as empty, so a
  // standard section left out makes its study incomplete.
  size_t sections_unusable = 0;
  std::vector<std::string> notes;
};

// Throws Error explaining the shortfall when the corpus cannot fill the preset.
Selection select_benchmark(const Corpus& corpus, const DataPreset& preset, uint64_t seed);

}  // namespace medforget
