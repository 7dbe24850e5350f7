#pragma once
// Data scale presets: the benchmark's shape and how much corpus to synthesise.
#include <string>
#include <vector>

namespace medforget {

struct DataPreset {
  std::string name;
  int institutions, patients, studies, sections;  // per parent, as in the paper's section 3
  int general_institutions, general_patients, general_studies;  // held-out general set
  int image_size = 64;
  double forget_ratio = 0.25;
  double context_fraction = 0.5;  // share of section prompts with a hierarchical context prefix
};

const DataPreset& data_preset(const std::string& name);  // tiny | small | paper; Error otherwise
const std::vector<std::string>& data_preset_names();

}  // namespace medforget
