#include "data/findings.hpp"

#include "core/error.hpp"

namespace medforget {

namespace {

struct ObsNames {
  Observation obs;
  const char* key;
  const char* label;
};

// In enum order; all_observations() and the lookups below rely on it.
const std::array<ObsNames, kNumObservations>& obs_table() {
  static const std::array<ObsNames, kNumObservations> t{{
      {Observation::NoFinding, "no_finding", "No Finding"},
      {Observation::EnlargedCardiomediastinum, "enlarged_cardiomediastinum",
       "Enlarged Cardiomediastinum"},
      {Observation::Cardiomegaly, "cardiomegaly", "Cardiomegaly"},
      {Observation::LungOpacity, "lung_opacity", "Lung Opacity"},
      {Observation::LungLesion, "lung_lesion", "Lung Lesion"},
      {Observation::Edema, "edema", "Edema"},
      {Observation::Consolidation, "consolidation", "Consolidation"},
      {Observation::Pneumonia, "pneumonia", "Pneumonia"},
      {Observation::Atelectasis, "atelectasis", "Atelectasis"},
      {Observation::Pneumothorax, "pneumothorax", "Pneumothorax"},
      {Observation::PleuralEffusion, "pleural_effusion", "Pleural Effusion"},
      {Observation::PleuralOther, "pleural_other", "Pleural Other"},
      {Observation::Fracture, "fracture", "Fracture"},
      {Observation::SupportDevices, "support_devices", "Support Devices"},
  }};
  return t;
}

const ObsNames& entry(Observation o) {
  auto i = static_cast<size_t>(o);
  if (i >= obs_table().size())
    fail("observation: enum value " + std::to_string(i) + " out of range [0, " +
         std::to_string(kNumObservations) + ")");
  return obs_table()[i];
}

}  // namespace

const std::array<Observation, kNumObservations>& all_observations() {
  static const std::array<Observation, kNumObservations> all = [] {
    std::array<Observation, kNumObservations> a{};
    for (size_t i = 0; i < a.size(); ++i) a[i] = obs_table()[i].obs;
    return a;
  }();
  return all;
}

std::string observation_key(Observation o) { return entry(o).key; }

std::string observation_label(Observation o) { return entry(o).label; }

Observation observation_from_key(const std::string& key) {
  for (const auto& e : obs_table())
    if (key == e.key) return e.obs;
  std::string valid;
  for (const auto& e : obs_table()) valid += (valid.empty() ? "" : ", ") + std::string(e.key);
  fail("unknown observation key '" + key + "'; expected one of: " + valid);
}

}  // namespace medforget
