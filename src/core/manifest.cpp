#include "core/manifest.hpp"

#include "core/digest.hpp"
#include "core/error.hpp"

namespace medforget {

static std::string& cmdline_storage() {
  static std::string s = "medforget";
  return s;
}

void set_command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += i == 0 ? std::string("medforget") : std::string(argv[i]);
  }
  cmdline_storage() = s;
}

const std::string& command_line() { return cmdline_storage(); }

Json write_manifest(const std::filesystem::path& dir, const std::string& stage, const Json& params,
                    const Json& inputs, const Json& extra) {
  Json m = {{"format", "medforget-stage"},
            {"format_version", kManifestVersion},
            {"medforget_version", kMedforgetVersion},
            {"stage", stage},
            {"command_line", command_line()},
            {"params", params},
            {"inputs", inputs},
            {"content_digest", sha256_tree(dir, {"manifest.json"})}};
  for (auto it = extra.begin(); it != extra.end(); ++it) m[it.key()] = it.value();
  write_json(dir / "manifest.json", m);
  return m;
}

Json read_manifest(const std::filesystem::path& dir, const std::string& expected_stage) {
  auto p = dir / "manifest.json";
  if (!std::filesystem::exists(p))
    fail(p.string() + ": missing; '" + dir.string() + "' is not a finished " + expected_stage +
         " directory (an interrupted run leaves no manifest)");
  Json m = read_json(p);
  JsonCtx ctx{p.string(), 0};
  if (get_string(m, "format", ctx) != "medforget-stage") fail(where(p.string(), 0, "format") + ": expected 'medforget-stage'");
  if (get_int(m, "format_version", ctx) != kManifestVersion)
    fail(where(p.string(), 0, "format_version") + ": expected " + std::to_string(kManifestVersion));
  std::string stage = get_string(m, "stage", ctx);
  if (stage != expected_stage)
    fail(where(p.string(), 0, "stage") + ": expected '" + expected_stage + "', got '" + stage + "'");
  get_string(m, "content_digest", ctx);
  return m;
}

void verify_manifest_digest(const std::filesystem::path& dir, const Json& manifest) {
  std::string want = manifest.at("content_digest").get<std::string>();
  std::string got = sha256_tree(dir, {"manifest.json"});
  if (want != got)
    fail(dir.string() + ": content digest mismatch (manifest " + want.substr(0, 12) + "…, files " +
         got.substr(0, 12) + "…): files were changed or are incomplete");
}

}  // namespace medforget
