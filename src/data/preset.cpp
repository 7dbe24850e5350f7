#include "data/preset.hpp"

#include "core/error.hpp"

namespace medforget {

static const std::vector<DataPreset>& presets() {
  static const std::vector<DataPreset> p{
      {"tiny", 2, 2, 2, 4, 1, 2, 1},
      {"small", 4, 4, 2, 4, 1, 4, 2},
      {"paper", 8, 8, 4, 4, 2, 8, 2},
  };
  return p;
}

const DataPreset& data_preset(const std::string& name) {
  for (const auto& p : presets())
    if (p.name == name) return p;
  fail("unknown preset '" + name + "' (expected tiny, small or paper)");
}

const std::vector<std::string>& data_preset_names() {
  static const std::vector<std::string> n{"tiny", "small", "paper"};
  return n;
}

}  // namespace medforget
