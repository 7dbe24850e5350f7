#include "model/arch_names.hpp"

#include <charconv>

namespace medforget::arch {
namespace {

constexpr std::string_view kT5Language = "model.language_model.";
constexpr std::string_view kT5Vision = "model.visual.";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string join(std::string_view a, int index, std::string_view suffix = {}) {
  std::string s(a);
  s += std::to_string(index);
  s += suffix;
  return s;
}

}  // namespace

std::string decoder_layer(int layer) { return join(kDecoderLayers, layer); }
std::string decoder_mlp(int layer) { return join(kDecoderLayers, layer, ".mlp"); }
std::string decoder_mlp_proj(int layer, std::string_view proj) {
  return decoder_mlp(layer) + "." + std::string(proj);
}
std::string vision_block(int block) { return join("visual.blocks.", block); }
std::string vision_mlp(int block) { return join("visual.blocks.", block, ".mlp"); }
std::string merger_fc1() { return std::string(kMerger) + "mlp.0"; }
std::string merger_fc2() { return std::string(kMerger) + "mlp.2"; }

bool in_vision(std::string_view name) { return starts_with(name, kVision); }
bool in_merger(std::string_view name) { return starts_with(name, kMerger); }

std::optional<int> decoder_layer_of(std::string_view name) {
  if (!starts_with(name, kDecoderLayers)) return std::nullopt;
  const std::string_view rest = name.substr(kDecoderLayers.size());
  int layer = -1;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), layer);
  if (ec != std::errc() || end == rest.data() || layer < 0) return std::nullopt;
  if (end != rest.data() + rest.size() && *end != '.') return std::nullopt;
  return layer;
}

std::string to_transformers5(const std::string& name) {
  if (starts_with(name, "model.")) return std::string(kT5Language) + name.substr(6);
  if (in_vision(name)) return "model." + name;
  return name;
}

std::string from_transformers5(const std::string& name) {
  if (starts_with(name, kT5Language)) return "model." + name.substr(kT5Language.size());
  if (starts_with(name, kT5Vision)) return name.substr(6);
  return name;
}

}  // namespace medforget::arch
