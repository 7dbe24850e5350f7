#include "eval/result_header.hpp"

#include <map>

#include "core/error.hpp"
#include "core/manifest.hpp"

namespace medforget {

std::string method_display_name(const std::string& method) {
  static const std::map<std::string, std::string> names{
      {"vanilla", "Vanilla"}, {"retrain", "Retrain"}, {"chip", "CHIP"},     {"graddiff", "GradDiff"},
      {"kl_min", "KL-Min"},   {"npo", "NPO"},         {"manu", "MANU"},     {"mip_editor", "MIP-Editor"}};
  auto it = names.find(method);
  return it == names.end() ? method : it->second;
}

Json result_header(const std::string& format, const std::filesystem::path& model_dir,
                   const std::filesystem::path& bench_dir, const std::string& level, const std::string& label) {
  Json bm = read_verified_manifest(bench_dir, "benchmark");
  Json mm = read_model_manifest(model_dir);
  std::string method = "vanilla";
  Json request = nullptr;
  const auto prov = model_dir / "provenance.json";
  if (std::filesystem::exists(prov)) {
    Json p = read_json(prov);
    if (!p.contains("method") || !p["method"].is_string())
      fail(prov.string() + ": field 'method' missing or not a string");
    method = p["method"].get<std::string>();
    if (p.contains("variant") && p["variant"].is_string()) method = p["variant"].get<std::string>();
    if (p.contains("request")) request = p["request"];
  }
  return {{"format", format},
          {"bench_digest", bm.at("content_digest")},
          {"level", level.empty() ? Json(nullptr) : Json(level)},
          {"method", method},
          {"label", label.empty() ? method_display_name(method) : label},
          {"model", std::filesystem::absolute(model_dir).string()},
          {"model_digest", mm.at("content_digest")},
          {"request", request}};
}

}  // namespace medforget
