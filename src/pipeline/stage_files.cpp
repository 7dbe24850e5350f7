#include "pipeline/stage_files.hpp"

#include "core/digest.hpp"
#include "core/manifest.hpp"

namespace medforget {

namespace fs = std::filesystem;

std::string expand_out(const std::string& a, const fs::path& out) {
  std::string s = a;
  for (size_t p; (p = s.find("$OUT")) != std::string::npos;) s.replace(p, 4, out.string());
  return s;
}

std::string flat_name(const std::string& name) {
  std::string f = name;
  for (auto& ch : f)
    if (ch == '/') ch = '_';
  return f;
}

std::string finished_digest(const fs::path& dir) {
  const auto m = dir / "manifest.json";
  if (!fs::exists(m)) return "";
  try {
    return read_json(m).at("content_digest").get<std::string>();
  } catch (const std::exception&) {
    return "";
  }
}

fs::path ledger_path(const fs::path& out, const Stage& s) { return out / ".stages" / (flat_name(s.name) + ".json"); }

fs::path log_path(const fs::path& out, const Stage& s) { return out / "logs" / (flat_name(s.name) + ".log"); }

void remove_output(const fs::path& dir) {
  fs::remove_all(dir);
  fs::remove_all(dir.string() + ".partial");
}

void clear_stage(const fs::path& out, const Stage& s) {
  remove_output(out / s.dir);
  fs::remove(ledger_path(out, s));
  fs::remove(log_path(out, s));  // appended to by each run: the old build's output would stay in it
}

std::string stage_key(const Stage& s, const std::map<std::string, std::string>& digest_of) {
  std::string key_src = std::string(kMedforgetVersion) + "\n";
  for (size_t k = 0; k < s.args.size(); ++k) {
    if (s.args[k] == "--device" && k + 1 < s.args.size()) {
      ++k;
      continue;
    }
    key_src += s.args[k] + "\n";
  }
  for (const auto& d : s.deps) {
    auto it = digest_of.find(d);
    if (it == digest_of.end()) return "";
    key_src += d + "=" + it->second + "\n";
  }
  return sha256_hex(key_src);
}

Json read_ledger(const fs::path& ledger) {
  if (!fs::exists(ledger)) return Json::object();
  try {
    return read_json(ledger);
  } catch (const std::exception&) {
    return Json::object();  // a torn write: the stage counts as not run
  }
}

StageOnDisk stage_on_disk(const fs::path& out, const Stage& s, const std::string& key, bool read_by_others) {
  StageOnDisk d;
  d.have = finished_digest(out / s.dir);
  d.ledger = read_ledger(ledger_path(out, s));
  d.under_key = !key.empty() && d.ledger.value("key", "") == key;
  if (!d.under_key) return d;
  if (!d.have.empty())
    d.digest = d.have;
  else if (read_by_others && d.ledger.value("state", "") == "done")
    d.digest = d.ledger.value("digest", "");
  return d;
}

}  // namespace medforget
