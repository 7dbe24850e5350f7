#include "deploy/execute.hpp"

#include <algorithm>
#include <chrono>
#include <regex>
#include <set>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/manifest.hpp"
#include "core/output.hpp"
#include "core/progress.hpp"
#include "deploy/certificate.hpp"
#include "deploy/verify.hpp"
#include "model/checkpoint.hpp"
#include "unlearn/method.hpp"
#include "unlearn/unlearn.hpp"

namespace medforget {

namespace fs = std::filesystem;

// ---- versions ---------------------------------------------------------------

std::vector<ModelVersion> versions_of(const std::vector<LedgerEntry>& entries) {
  std::vector<ModelVersion> v;
  for (const auto& e : entries) {
    if (e.kind == "init" || e.kind == "executed") {
      ModelVersion m;
      m.name = e.body.value("version", "");
      m.parent = e.body.value("parent", "");
      m.model_digest = e.body.value("model_digest", "");
      m.time = e.time;
      if (e.body.contains("requests")) m.requests = e.body["requests"].get<std::vector<std::string>>();
      v.push_back(m);
    } else if (e.kind == "prune") {
      for (const auto& r : e.body.value("removed", Json::array()))
        for (auto& m : v)
          if (m.name == r.value("version", "")) m.pruned = true;
    }
  }
  return v;
}

std::string current_version(const std::vector<LedgerEntry>& entries) {
  const auto v = versions_of(entries);
  if (v.empty()) fail("the ledger records no model version (no init entry)");
  return v.back().name;
}

namespace {

std::string version_name(int n) {
  char b[16];
  std::snprintf(b, sizeof b, "v%04d", n);
  return b;
}

int version_number(const std::string& name) {
  static const std::regex re("v([0-9]{4,})");
  std::smatch m;
  return std::regex_match(name, m, re) ? std::stoi(m[1]) : -1;
}

fs::path version_dir(const Deployment& d, const std::string& v) { return d.dir / "versions" / v; }

// Directories under versions/ that no ledger entry stands for (a killed
// execution's output) or that a prune recorded but did not finish removing.
void remove_orphans(const Deployment& d, const std::vector<LedgerEntry>& entries) {
  std::set<std::string> live;
  for (const auto& v : versions_of(entries))
    if (!v.pruned) live.insert(v.name);
  for (const auto& p : fs::directory_iterator(d.dir / "versions")) {
    const std::string n = p.path().filename().string();
    if (live.count(n)) continue;
    log_warn("deploy: removing " + p.path().string() + ": no ledger entry records it as a live version (left by an "
             "interrupted execution or prune)");
    fs::remove_all(p.path());
  }
  fs::remove_all(d.dir / ".work");
}

// The nodes a request names, found again by hashing the benchmark's nodes of its level.
std::vector<std::string> resolve_nodes(const Deployment& d, const Hierarchy& h, const DeletionRequest& r) {
  for (const auto& id : h.at_level(level_from_name(r.level)))
    if (target_key(d, r.level, id) == r.target_key) return {id};
  fail("request " + r.id + ": no " + r.level + " of the deployment's benchmark matches its target hash (was the "
       "benchmark or the secret replaced?)");
}

// An error message with every target id replaced by its level and hash prefix:
// what reaches the ledger never names a patient.
std::string redact(std::string msg, const std::vector<std::pair<std::string, std::string>>& ids_and_keys) {
  for (const auto& [id, key] : ids_and_keys) {
    for (size_t at = msg.find(id); at != std::string::npos; at = msg.find(id, at))
      msg.replace(at, id.size(), "<" + key.substr(0, 12) + ">");
  }
  return msg;
}

// Every node removed by requests applied up to and including `version`.
std::vector<std::string> forgotten_through(const Deployment& d, const Hierarchy& h,
                                           const std::vector<DeletionRequest>& rs, const std::string& version) {
  std::vector<std::string> nodes;
  for (const auto& r : rs)
    if (!r.version.empty() && r.state != "executing" && version_number(r.version) <= version_number(version))
      for (auto& n : resolve_nodes(d, h, r)) nodes.push_back(n);
  return nodes;
}

Hierarchy read_hierarchy(const Deployment& d) {
  const fs::path hp = d.bench() / "hierarchy.json";
  return Hierarchy::from_json(read_json(hp), hp.string());
}

void verify_version(const Deployment& d, Ledger& l, const Policy& policy, const ModelVersion& v,
                    const std::string& device, ExecutionOutcome& out) {
  const Hierarchy h = read_hierarchy(d);
  const auto entries = l.entries();
  const auto rs = requests_of(entries);
  std::vector<RequestTargets> targets;
  for (const auto& id : v.requests) {
    const DeletionRequest r = find_request(entries, id);
    if (r.state != "executed") continue;
    targets.push_back({r.id, level_from_name(r.level), resolve_nodes(d, h, r)});
  }
  if (targets.empty()) return;
  log_info("deploy: verifying " + std::to_string(targets.size()) + " request(s) of version " + v.name);
  const auto checks = verify_execution(d.bench(), policy, version_dir(d, v.parent), version_dir(d, v.name), targets,
                                       forgotten_through(d, h, rs, v.name), device);
  for (const auto& t : targets) {
    Json cs = Json::array();
    bool ok = true;
    for (const auto& c : checks.at(t.id)) {
      cs.push_back(c.to_json());
      ok = ok && c.passed;
    }
    const std::string verdict = ok ? "verified" : "failed";
    l.append("verify", t.id, {{"version", v.name}, {"verdict", verdict}, {"policy", policy.to_json()}, {"checks", cs}},
             [&](const std::vector<LedgerEntry>& all) {
               const DeletionRequest r = find_request(all, t.id);
               if (r.state != "executed") fail("request " + t.id + " is " + r.state + "; it was verified meanwhile");
             });
    write_certificate(d, l.entries(), t.id);
    log_info("deploy: request " + t.id + " " + verdict + " (certificate " +
             (d.dir / "certificates" / (t.id + ".json")).string() + ")");
    out.verdicts.emplace_back(t.id, verdict);
  }
}

Policy read_policy(const Deployment& d) {
  const fs::path p = d.dir / "policy.json";
  return Policy::from_json(read_json(p), p.string());
}

const Level kLevelOrder[] = {Level::Institution, Level::Patient, Level::Study, Level::Section};

// Unlearns `group` from the current version into a new one and records it.
ExecutionOutcome apply_group(const Deployment& d, Ledger& l, const ExecuteOptions& opt, const Json& params,
                             const std::vector<std::string>& group) {
  ExecutionOutcome out;
  const auto entries = l.entries();
  const auto rs = requests_of(entries);
  const auto versions = versions_of(entries);
  out.parent = versions.back().name;
  int next = 0;
  for (const auto& v : versions) next = std::max(next, version_number(v.name));
  out.version = version_name(next + 1);
  out.requests = group;
  const Hierarchy h = read_hierarchy(d);
  const std::vector<std::string> before = forgotten_through(d, h, rs, out.parent);

  l.append("execute", "", {{"version", out.version}, {"parent", out.parent}, {"requests", group},
                           {"method", opt.method}, {"mode", opt.mode}, {"params", params}, {"by", opt.by}},
           [&](const std::vector<LedgerEntry>& all) {
             for (const auto& id : group) {
               const DeletionRequest r = find_request(all, id);
               if (r.state != "approved" && r.state != "executing")
                 fail("request " + id + " is " + r.state + "; only an approved request is executed");
             }
           });
  log_info("deploy: executing " + std::to_string(group.size()) + " request(s) with " + opt.method + " (" + opt.mode +
           "): " + out.parent + " -> " + out.version);

  // One unlearning step per level, highest first, each from the step before.
  std::map<Level, std::pair<std::vector<std::string>, std::vector<std::string>>> by_level;  // nodes, keys
  std::vector<std::pair<std::string, std::string>> secrets;
  for (const auto& id : group) {
    const DeletionRequest r = find_request(entries, id);
    for (const auto& n : resolve_nodes(d, h, r)) {
      by_level[level_from_name(r.level)].first.push_back(n);
      by_level[level_from_name(r.level)].second.push_back(r.target_key);
      secrets.emplace_back(n, r.target_key);
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  try {
    fs::path input = version_dir(d, out.parent);
    std::vector<std::string> forgotten = before;
    int step = 0;
    const int steps = static_cast<int>(by_level.size());
    for (Level lv : kLevelOrder) {
      auto it = by_level.find(lv);
      if (it == by_level.end()) continue;
      ++step;
      UnlearnJob job;
      job.model = input;
      job.bench = d.bench();
      job.out = step == steps ? version_dir(d, out.version) : d.dir / ".work" / ("step" + std::to_string(step));
      job.level = level_name(lv);
      job.method = opt.method;
      job.device = opt.device;
      job.seed = opt.seed;
      job.params = params;
      job.targets = it->second.first;
      job.recorded_targets = it->second.second;
      job.forgotten = forgotten;
      job.extra_provenance = {{"deployment",
                               {{"version", out.version}, {"parent", out.parent}, {"requests", group},
                                {"mode", opt.mode}, {"step", step}, {"steps", steps}}}};
      run_unlearn(job);
      forgotten.insert(forgotten.end(), job.targets.begin(), job.targets.end());
      input = job.out;
    }
  } catch (const std::exception& e) {
    fs::remove_all(version_dir(d, out.version));
    fs::remove_all(d.dir / ".work");
    out.error = redact(e.what(), secrets);
    l.append("execution_failed", "", {{"version", out.version}, {"requests", group}, {"error", out.error}});
    log_warn("deploy: execution of " + out.version + " failed: " + out.error);
    out.version.clear();
    return out;
  }
  fs::remove_all(d.dir / ".work");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  l.append("executed", "", {{"version", out.version}, {"parent", out.parent}, {"requests", group},
                            {"model_digest", read_checkpoint_manifest(version_dir(d, out.version)).at("content_digest")},
                            {"parent_digest", read_checkpoint_manifest(version_dir(d, out.parent)).at("content_digest")},
                            {"method", opt.method}, {"wall_seconds", secs}});
  return out;
}

}  // namespace

std::vector<ExecutionOutcome> execute_requests(const Deployment& d, const ExecuteOptions& opt) {
  check_principal(opt.by, "--by");
  if (opt.mode != "sequential" && opt.mode != "batch")
    fail("--mode '" + opt.mode + "': expected sequential or batch");
  const auto method = make_method(opt.method);
  const Json params = resolve_method_params(*method, opt.method_opts);
  method->check(params);
  const Policy policy = read_policy(d);
  parse_device(opt.device);
  const std::string bench_digest = read_verified_manifest(d.bench(), "benchmark").at("content_digest");
  if (bench_digest != d.meta.at("bench_digest"))
    fail("deploy: the benchmark " + d.bench().string() + " changed since the deployment was made (digest " +
         bench_digest.substr(0, 12) + ", recorded " + d.meta.at("bench_digest").get<std::string>().substr(0, 12) +
         "); requests cannot be resolved against it");
  // One execution at a time: a second one fails at once, naming the holder.
  OutputLock lock(d.dir / "versions");
  Ledger l = d.ledger();
  remove_orphans(d, l.entries());

  std::vector<ExecutionOutcome> outcomes;
  // Versions recorded but not verified (an execution killed while verifying).
  for (const auto& v : versions_of(l.entries())) {
    if (v.requests.empty()) continue;
    ExecutionOutcome o;
    o.version = v.name;
    o.parent = v.parent;
    o.requests = v.requests;
    verify_version(d, l, policy, v, opt.device, o);
    if (!o.verdicts.empty()) outcomes.push_back(o);
  }
  std::vector<std::string> pending;
  for (const auto& r : requests_of(l.entries()))
    if (r.state == "approved" || r.state == "executing") pending.push_back(r.id);
  if (pending.empty()) {
    log_info("deploy: no approved request to execute");
    return outcomes;
  }
  std::vector<std::vector<std::string>> groups;
  if (opt.mode == "batch")
    groups.push_back(pending);
  else
    for (const auto& id : pending) groups.push_back({id});
  for (const auto& g : groups) {
    ExecutionOutcome o = apply_group(d, l, opt, params, g);
    if (!o.version.empty()) {
      const auto vs = versions_of(l.entries());
      verify_version(d, l, policy, vs.back(), opt.device, o);
    }
    outcomes.push_back(o);
  }
  return outcomes;
}

std::vector<std::string> prune_versions(const Deployment& d, size_t keep, const std::string& by) {
  check_principal(by, "--by");
  OutputLock lock(d.dir / "versions");
  Ledger l = d.ledger();
  const auto vs = versions_of(l.entries());
  std::vector<ModelVersion> live;
  for (const auto& v : vs)
    if (!v.pruned) live.push_back(v);
  Json removed = Json::array();
  std::vector<std::string> names;
  // The current version (the last) and the `keep` before it stay.
  for (size_t i = 0; i + 1 + keep < live.size(); ++i) {
    removed.push_back({{"version", live[i].name}, {"model_digest", live[i].model_digest}});
    names.push_back(live[i].name);
  }
  if (names.empty()) return names;
  // Recorded first: a prune killed half-way is finished by the next execution or prune.
  l.append("prune", "", {{"by", by}, {"keep", keep}, {"removed", removed}});
  remove_orphans(d, l.entries());
  return names;
}

}  // namespace medforget
