#include "core/manifest.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

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

namespace {

// Every file's path, size, mtime, ctime (ns) and inode, manifest.json included:
// what the cache trusts instead of the files' bytes.
std::string stat_signature(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> rows;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    struct stat st {};
    if (::stat(e.path().c_str(), &st) != 0) continue;
    rows.push_back(fs::relative(e.path(), dir).generic_string() + '\0' + std::to_string(st.st_size) + '\0' +
                   std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + '\0' +
                   // ctime and inode too: `cp -p`, `rsync -t` and tar keep size and mtime but not these
                   std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec) + '\0' +
                   std::to_string(st.st_ino));
  }
  std::sort(rows.begin(), rows.end());
  Sha256 h;
  for (const auto& r : rows) h.update(r + '\n');
  return h.hex();
}

std::filesystem::path digest_cache_dir() {
  if (const char* m = std::getenv("MEDFORGET_CACHE"); m && *m) return std::filesystem::path(m) / "digests";
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::filesystem::path(x) / "medforget/digests";
  if (const char* h = std::getenv("HOME"); h && *h) return std::filesystem::path(h) / ".cache/medforget/digests";
  return {};
}

}  // namespace

Json read_verified_manifest(const std::filesystem::path& dir, const std::string& expected_stage) {
  Json m = read_manifest(dir, expected_stage);
  const std::string want = m.at("content_digest").get<std::string>();
  const std::string sig = stat_signature(dir);
  const auto cache = digest_cache_dir();
  std::error_code ec;
  const auto entry =
      cache.empty() ? cache : cache / (sha256_hex(std::filesystem::absolute(dir).lexically_normal().string()) + ".json");
  if (!entry.empty() && std::filesystem::exists(entry, ec)) {
    try {
      Json c = read_json(entry);
      if (c.value("signature", "") == sig && c.value("content_digest", "") == want) return m;
    } catch (const std::exception&) {  // an unreadable cache entry only costs a full hash
    }
  }
  verify_manifest_digest(dir, m);
  if (!entry.empty()) {
    try {
      write_json(entry, {{"dir", std::filesystem::absolute(dir).string()}, {"signature", sig}, {"content_digest", want}});
    } catch (const std::exception&) {  // a read-only home: verify in full every time
    }
  }
  return m;
}

std::string cached_tree_digest(const std::filesystem::path& dir) {
  const std::string sig = stat_signature(dir);
  const auto cache = digest_cache_dir();
  std::error_code ec;
  const auto entry = cache.empty() ? cache
                                   : cache / ("tree-" + sha256_hex(std::filesystem::absolute(dir).lexically_normal().string()) +
                                              ".json");
  if (!entry.empty() && std::filesystem::exists(entry, ec)) {
    try {
      Json c = read_json(entry);
      if (c.value("signature", "") == sig && c.contains("content_digest")) return c["content_digest"].get<std::string>();
    } catch (const std::exception&) {
    }
  }
  const std::string digest = sha256_tree(dir, {"manifest.json"});
  if (!entry.empty()) {
    try {
      write_json(entry, {{"dir", std::filesystem::absolute(dir).string()}, {"signature", sig}, {"content_digest", digest}});
    } catch (const std::exception&) {
    }
  }
  return digest;
}

bool has_checkpoint_manifest(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(dir / "manifest.json", ec)) return false;
  try {
    const Json m = read_json(dir / "manifest.json");
    return m.is_object() && m.value("stage", "") == "checkpoint";
  } catch (const std::exception&) {
    return true;  // unreadable: let read_manifest say what is wrong
  }
}

Json read_model_manifest(const std::filesystem::path& dir) {
  std::error_code ec;
  const bool adapter = std::filesystem::is_regular_file(dir / "adapter_config.json", ec);
  if (!has_checkpoint_manifest(dir) && (adapter || std::filesystem::is_regular_file(dir / "config.json", ec)))
    return Json{{"stage", "checkpoint"},
                {"format", adapter ? "peft-adapter" : "huggingface"},
                {"content_digest", cached_tree_digest(dir)},
                {"params", Json::object()},
                {"inputs", Json::object()}};
  return read_manifest(dir, "checkpoint");
}

}  // namespace medforget
