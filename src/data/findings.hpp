#pragma once
// The 14 CheXpert observations and one study's finding state. Ground truth for
// synthetic studies; what the report writer and the radiograph renderer draw from.
#include <array>
#include <string>
#include <vector>

namespace medforget {

enum class Observation {
  NoFinding,
  EnlargedCardiomediastinum,
  Cardiomegaly,
  LungOpacity,
  LungLesion,  // nodules / masses
  Edema,
  Consolidation,
  Pneumonia,
  Atelectasis,
  Pneumothorax,
  PleuralEffusion,
  PleuralOther,
  Fracture,
  SupportDevices,
};
constexpr int kNumObservations = 14;

const std::array<Observation, kNumObservations>& all_observations();
std::string observation_key(Observation o);    // "pleural_effusion"
std::string observation_label(Observation o);  // "Pleural Effusion" (CheXpert column name)
Observation observation_from_key(const std::string& key);  // throws Error on unknown

enum class Certainty { Present, Uncertain };

struct Finding {
  Observation obs;
  Certainty certainty = Certainty::Present;
  std::string laterality;  // "left", "right", "bilateral" or "" where it does not apply
  std::string severity;    // "mild", "small", "moderate", "large", "severe" or ""
  std::string detail;      // device kind ("endotracheal tube"), lesion size, ... or ""
};

}  // namespace medforget
