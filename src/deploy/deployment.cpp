#include "deploy/deployment.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <regex>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "core/output.hpp"
#include "data/hierarchy.hpp"
#include "deploy/policy.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

void write_secret(const fs::path& p, const std::string& hex) {
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) fail("deploy: cannot create " + p.string());
  const std::string line = hex + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) fail("deploy: cannot write " + p.string());
}

std::string content_digest_of(const fs::path& dir, const std::string& what) {
  try {
    return read_json(dir / "manifest.json").at("content_digest").get<std::string>();
  } catch (const std::exception&) {
    fail("deploy init: " + what + " " + dir.string() + " is not a finished medforget directory (no manifest.json "
         "with a content digest)");
  }
}

const char* kLevels[] = {"institution", "patient", "study", "section"};

}  // namespace

fs::path Deployment::bench() const { return meta.at("bench").get<std::string>(); }

Ledger Deployment::ledger() const { return Ledger::open(ledger_path(), secret); }

Deployment init_deployment(const fs::path& model, const fs::path& bench, const fs::path& out) {
  if (fs::exists(out)) fail("deploy init: --out " + out.string() + " exists; a deployment is made in a new directory");
  check_not_an_input(out, {model, bench}, "deploy init: --out " + out.string() + ": ");
  const std::string model_digest = content_digest_of(model, "--model");
  const std::string bench_digest = content_digest_of(bench, "--bench");
  if (!fs::is_regular_file(bench / "hierarchy.json"))
    fail("deploy init: --bench " + bench.string() + " has no hierarchy.json: it is not a benchmark");
  OutputLock lock = claim_output(out, {"deploy init", "deployment", {model, bench}});
  StagingDir stage(out);
  const fs::path v1 = stage.path() / "versions" / "v0001";
  fs::create_directories(v1.parent_path());
  fs::copy(model, v1, fs::copy_options::recursive);
  const std::string secret = random_hex(32);
  write_secret(stage.path() / "secret", secret);
  Json meta = {{"format", "medforget-deployment"},
               {"version", 1},
               {"created", utc_now()},
               {"bench", fs::absolute(bench).lexically_normal().string()},
               {"bench_digest", bench_digest}};
  write_json(stage.path() / "deployment.json", meta);
  // What a verification must reach; `medforget request execute` reads it (docs/DEPLOY.md).
  write_json(stage.path() / "policy.json", Policy{}.to_json());
  {
    Ledger l = Ledger::create(stage.path() / "ledger.sqlite", secret);
    l.append("init", "", {{"version", "v0001"}, {"model_digest", model_digest}, {"bench_digest", bench_digest}});
  }
  stage.commit();
  Deployment d;
  d.dir = out;
  d.meta = meta;
  d.secret = secret;
  return d;
}

Deployment open_deployment(const fs::path& dir) {
  Deployment d;
  d.dir = dir;
  if (!fs::is_regular_file(dir / "deployment.json"))
    fail(dir.string() + " is not a deployment (no deployment.json; make one with medforget deploy init)");
  d.meta = read_json(dir / "deployment.json");
  if (d.meta.value("format", "") != "medforget-deployment")
    fail(dir.string() + "/deployment.json is not a medforget deployment's");
  std::string s = read_text(dir / "secret");
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.size() != 64 || s.find_first_not_of("0123456789abcdef") != std::string::npos)
    fail(dir.string() + "/secret is damaged (expected 64 hex digits): the ledger cannot be verified without it");
  d.secret = s;
  return d;
}

// ---- input rules ------------------------------------------------------------

void refuse(Refusal kind, const std::string& msg) { throw RequestRefused(kind, msg); }

void check_principal(const std::string& who, const std::string& option) {
  static const std::regex ok("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}");
  if (!std::regex_match(who, ok))
    refuse(Refusal::Invalid, option + " '" + who + "': a principal is 1-64 letters, digits and . _ @ - (starting with a letter or digit)");
}

void check_free_text(const std::string& text, const std::string& option, size_t max_bytes) {
  if (text.empty()) refuse(Refusal::Invalid, option + " is empty");
  if (text.size() > max_bytes) refuse(Refusal::Invalid, option + " is " + std::to_string(text.size()) + " bytes; at most " + std::to_string(max_bytes));
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7f) refuse(Refusal::Invalid, option + " holds a control character (byte " + std::to_string(i) + ")");
    const size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > text.size()) refuse(Refusal::Invalid, option + " is not valid UTF-8 (byte " + std::to_string(i) + ")");
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 2) refuse(Refusal::Invalid, option + " is not valid UTF-8 (byte " + std::to_string(i) + ")");
    i += len;
  }
}

std::pair<std::string, std::string> parse_target(const Deployment& d, const std::string& target) {
  const size_t colon = target.find(':');
  const std::string level = colon == std::string::npos ? "" : target.substr(0, colon);
  const std::string id = colon == std::string::npos ? "" : target.substr(colon + 1);
  if (std::find(std::begin(kLevels), std::end(kLevels), level) == std::end(kLevels) || id.empty())
    refuse(Refusal::Invalid, "--target '" + target + "': expected LEVEL:ID with LEVEL one of institution, patient, study, section");
  const fs::path h = d.bench() / "hierarchy.json";
  const Hierarchy hier = Hierarchy::from_json(read_json(h), h.string());
  if (!hier.has(id) || level_name(hier.get(id).level) != level)
    refuse(Refusal::Unprocessable, "--target " + level + ":" + id + ": the deployment's model was not trained on a " + level +
         " of that id (unknown target)");
  return {level, id};
}

std::string target_key(const Deployment& d, const std::string& level, const std::string& id) {
  return hmac_sha256_hex(d.secret, level + ":" + id);
}

// ---- requests ---------------------------------------------------------------

Json DeletionRequest::to_json() const {
  Json j = {{"id", id},          {"level", level},         {"target_key", target_key}, {"basis", basis},
            {"submitted_by", submitted_by}, {"submitted_at", submitted_at}, {"state", state}, {"entries", entries}};
  if (!decided_by.empty()) {
    j["decided_by"] = decided_by;
    j["decided_at"] = decided_at;
  }
  if (!reason.empty()) j["reason"] = reason;
  if (!version.empty()) j["version"] = version;
  return j;
}

std::vector<DeletionRequest> requests_of(const std::vector<LedgerEntry>& entries) {
  std::vector<DeletionRequest> v;
  std::map<std::string, size_t> at;
  for (const auto& e : entries) {
    // An execution's entries name all its requests; the others name one.
    std::vector<std::string> ids;
    if (!e.request.empty())
      ids.push_back(e.request);
    else if (e.body.contains("requests") && e.body["requests"].is_array())
      for (const auto& x : e.body["requests"])
        if (x.is_string()) ids.push_back(x.get<std::string>());
    for (const auto& id : ids) {
      if (e.kind == "submit") {
        DeletionRequest r;
        r.id = id;
        r.level = e.body.value("level", "");
        r.target_key = e.body.value("target_key", "");
        r.basis = e.body.value("basis", "");
        r.submitted_by = e.body.value("by", "");
        r.submitted_at = e.time;
        r.state = "submitted";
        at[r.id] = v.size();
        v.push_back(r);
      }
      auto it = at.find(id);
      if (it == at.end()) continue;
      DeletionRequest& r = v[it->second];
      r.entries.push_back(e.seq);
      if (e.kind == "approve" || e.kind == "reject") {
        r.state = e.kind == "approve" ? "approved" : "rejected";
        r.decided_by = e.body.value("by", "");
        r.decided_at = e.time;
        r.reason = e.body.value("reason", "");
      } else if (e.kind == "execute") {
        r.state = "executing";
        r.version = e.body.value("version", "");
      } else if (e.kind == "executed") {
        r.state = "executed";
      } else if (e.kind == "execution_failed") {
        r.state = "failed";
        r.version.clear();
        r.reason = e.body.value("error", "");
      } else if (e.kind == "verify") {
        r.state = e.body.value("verdict", "failed");
      }
    }
  }
  return v;
}

DeletionRequest find_request(const std::vector<LedgerEntry>& entries, const std::string& id) {
  for (auto& r : requests_of(entries))
    if (r.id == id) return r;
  refuse(Refusal::NotFound, "request " + id + ": no such request in this deployment");
}

DeletionRequest submit_request(const Deployment& d, const std::string& target, const std::string& basis,
                               const std::string& by) {
  check_principal(by, "--by");
  check_free_text(basis, "--basis", 2000);
  const auto [level, id] = parse_target(d, target);
  const std::string key = target_key(d, level, id);
  const std::string rid = "R" + random_hex(8);
  Ledger l = d.ledger();
  const LedgerEntry e = l.append("submit", rid, {{"level", level}, {"target_key", key}, {"basis", basis}, {"by", by}},
                                 [&](const std::vector<LedgerEntry>& all) {
                                   for (const auto& r : requests_of(all))
                                     if (r.target_key == key && (r.state == "submitted" || r.state == "approved"))
                                       refuse(Refusal::Conflict, "request " + r.id + " for this " + level + " is already " + r.state +
                                            "; it is not submitted twice");
                                 });
  return find_request(l.entries(), rid);
}

DeletionRequest approve_request(const Deployment& d, const std::string& id, const std::string& by) {
  check_principal(by, "--by");
  Ledger l = d.ledger();
  l.append("approve", id, {{"by", by}}, [&](const std::vector<LedgerEntry>& all) {
    const DeletionRequest r = find_request(all, id);
    if (r.state != "submitted")
      refuse(Refusal::Conflict, "request " + id + " is " + r.state + "; only a submitted request is approved");
    if (r.submitted_by == by)
      refuse(Refusal::Forbidden, "request " + id + " was submitted by " + by + "; it must be approved by another principal");
  });
  return find_request(l.entries(), id);
}

DeletionRequest reject_request(const Deployment& d, const std::string& id, const std::string& by,
                               const std::string& reason) {
  check_principal(by, "--by");
  check_free_text(reason, "--reason", 2000);
  Ledger l = d.ledger();
  l.append("reject", id, {{"by", by}, {"reason", reason}}, [&](const std::vector<LedgerEntry>& all) {
    const DeletionRequest r = find_request(all, id);
    if (r.state != "submitted" && r.state != "approved")
      refuse(Refusal::Conflict, "request " + id + " is " + r.state + "; only a submitted or approved request is rejected");
  });
  return find_request(l.entries(), id);
}

}  // namespace medforget
