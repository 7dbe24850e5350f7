#pragma once
// Longitudinal clinical courses: what each of a patient's studies shows, in
// date order, so that a patient's reports read as one trajectory.
//
//  - chronic findings (cardiomegaly, lung nodule/mass, pleural thickening or
//    plaques, healed fracture, pacemaker) persist in every later study once
//    they appear, with the same laterality and detail;
//  - acute conditions (pneumonia with consolidation, pleural effusion, edema,
//    pneumothorax, atelectasis, nonspecific opacity) appear, improve (severity
//    down), worsen, stay, or resolve; laterality never changes while a
//    condition persists;
//  - support devices are placed (ICU episodes: endotracheal tube, nasogastric
//    tube, internal jugular central line; PICC) and removed;
//  - a study with no pathology carries a single NoFinding (plus any devices),
//    as in CheXpert labels where support devices do not cancel "No Finding".
//
// Finding conventions (shared with the report writer and the renderer):
//   severity  effusion / pneumothorax: small, moderate, large;
//             edema / cardiomegaly: mild, moderate, severe;
//             atelectasis: "", mild, moderate; other observations: "".
//   detail    Consolidation, Pneumonia, LungOpacity, Atelectasis: the zone,
//               "upper lobe", "middle lobe" (right only), "lower lobe", "base";
//             LungLesion: "<size> <nodule|mass>, <zone>" ("8 mm nodule, upper lobe");
//             PleuralOther: "pleural thickening" or "calcified pleural plaques";
//             Fracture: "<position> <n>th rib" ("lateral 6th rib", laterality
//               left/right) or "thoracic vertebral body" (laterality "");
//             SupportDevices: the device, one Finding per device:
//               "endotracheal tube", "nasogastric tube", "internal jugular
//               central line" (right/left), "PICC" (right/left), "pacemaker" (left/right);
//             EnlargedCardiomediastinum: "mediastinal widening"; others "".
#include <string>
#include <vector>

#include "data/findings.hpp"

namespace medforget {

class Rng;

// Findings per study for n_studies studies of one patient, in date order.
std::vector<std::vector<Finding>> sample_clinical_course(int n_studies, int age, Rng& rng);

// n ISO dates ("2016-04-23"), strictly increasing; gaps range from a day
// (inpatient follow-up) to about two years.
std::vector<std::string> sample_study_dates(int n, Rng& rng);
// Days between two ISO dates (b - a). Throws Error on a malformed date.
int days_between(const std::string& a, const std::string& b);

// "CHEST (PORTABLE AP)" when the study suggests an inpatient / ICU film (lines,
// tubes, large effusion, edema, pneumothorax) — mostly, not always — else
// mostly "CHEST (PA AND LAT)".
std::string sample_exam(const std::vector<Finding>& findings, Rng& rng);

// Clinical indication consistent with the study and its predecessor:
// "s/p line placement, assess position" after a new line or tube, "follow-up
// effusion" for a persisting effusion, "fever, cough" / "evaluate for
// pneumonia" around pneumonia, "shortness of breath" around edema, "preop" or
// "chest pain" for normal studies, ... `prior` is empty for a first study.
std::string sample_indication(const std::vector<Finding>& findings,
                              const std::vector<Finding>& prior, Rng& rng);

// True for findings that are pathology (not NoFinding, not SupportDevices).
bool is_pathology(const Finding& f);
// A stable identity for "the same finding" across studies: observation,
// laterality and, for devices, lesions, fractures and pleural other, the detail.
std::string finding_identity(const Finding& f);

struct PlannedStudy {
  std::string date;
  std::string exam;
  std::string indication;
  std::vector<Finding> findings;
};

// Dates, findings, exams and indications for one patient, in date order.
// Uses independent forks of rng for each part.
std::vector<PlannedStudy> plan_patient_studies(int n_studies, int age, Rng& rng);

}  // namespace medforget
