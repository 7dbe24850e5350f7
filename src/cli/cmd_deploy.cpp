// `medforget deploy`, `request`, `ledger`, `token`, `serve`: a deployment's
// deletion requests from submission to certificate, its versions, its ledger's
// integrity, and the HTTP API over all of it.
#include <cstdio>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "core/output.hpp"
#include "deploy/certificate.hpp"
#include "deploy/deployment.hpp"
#include "deploy/execute.hpp"
#include "deploy/server.hpp"
#include "deploy/study.hpp"
#include "deploy/tokens.hpp"
#include "unlearn/method.hpp"

namespace medforget::cli {

namespace {

void print_request(const DeletionRequest& r) {
  std::printf("%s  %-9s  %-11s  target %s…  by %s at %s", r.id.c_str(), r.state.c_str(), r.level.c_str(),
              r.target_key.substr(0, 12).c_str(), r.submitted_by.c_str(), r.submitted_at.c_str());
  if (!r.decided_by.empty()) std::printf("; %s by %s at %s", r.state.c_str(), r.decided_by.c_str(), r.decided_at.c_str());
  std::printf("\n");
}

}  // namespace

void register_deploy(CLI::App& app) {
  static std::string model, bench, out, deploy, target, basis, by, id, reason;
  static bool as_json = false;
  static ExecuteOptions exec;
  static std::string html;
  static size_t keep = 1;
  static std::string principal, role, listen = "127.0.0.1:8750";
  static ServeOptions serve_opt;
  static StudyOptions study;
  static std::string study_model, study_bench, study_out, study_methods = "chip,graddiff,npo";
  static std::vector<std::string> study_opts;
  static bool no_batch = false;

  auto* dep = app.add_subcommand("deploy", "A deployment: the served model, its versions, policy and request ledger");
  dep->require_subcommand(1);
  auto* init = dep->add_subcommand("init", "Make a deployment directory from a checkpoint and its benchmark");
  init->add_option("--model", model, "The deployed checkpoint (copied into DEPLOY/versions/v0001)")->required();
  init->add_option("--bench", bench, "The benchmark it was fine-tuned on (requests resolve against it)")->required();
  init->add_option("--out", out, "The new deployment directory")->required();
  init->callback([] {
    const Deployment d = init_deployment(model, bench, out);
    std::printf("deployment %s: version v0001, ledger %s (verify: medforget ledger verify %s)\n", d.dir.string().c_str(),
                d.ledger_path().string().c_str(), d.dir.string().c_str());
  });

  auto* versions = dep->add_subcommand("versions", "The model versions the ledger records, oldest first");
  versions->add_option("deploy", deploy, "Deployment directory")->required();
  versions->callback([] {
    const auto vs = versions_of(open_deployment(deploy).ledger().entries());
    for (size_t i = 0; i < vs.size(); ++i) {
      const auto& v = vs[i];
      std::printf("%s  %s  digest %s  parent %-5s  %zu request(s)%s\n", v.name.c_str(), v.time.c_str(),
                  v.model_digest.substr(0, 16).c_str(), v.parent.empty() ? "-" : v.parent.c_str(), v.requests.size(),
                  v.pruned ? "  (pruned)" : i + 1 == vs.size() ? "  (current)" : "");
    }
  });
  auto* prune = dep->add_subcommand("prune", "Remove earlier model versions (recorded in the ledger with their digests)");
  prune->add_option("deploy", deploy, "Deployment directory")->required();
  prune->add_option("--keep", keep, "Versions before the current one to keep")->check(CLI::NonNegativeNumber);
  prune->add_option("--by", by, "The principal pruning")->required();
  prune->callback([] {
    const auto removed = prune_versions(open_deployment(deploy), keep, by);
    if (removed.empty()) std::printf("nothing to prune\n");
    for (const auto& v : removed) std::printf("removed %s\n", v.c_str());
  });

  auto* st = dep->add_subcommand("study", "Sequential unlearning study: patient requests one after another per method, "
                                          "then as one batch; utility, forgetting of earlier requests and MIA per step");
  st->add_option("--model", study_model, "The fine-tuned checkpoint")->required();
  st->add_option("--bench", study_bench, "Its benchmark")->required();
  st->add_option("--out", study_out, "Output directory (deployments, study.json, study.md, study.svg)")->required();
  st->add_option("--requests", study.requests, "Patient-level requests (default 16)")->check(CLI::PositiveNumber);
  st->add_option("--methods", study_methods, "Comma-separated methods (default chip,graddiff,npo)");
  st->add_option("--opt", study_opts, "METHOD:key=value, a method option (repeatable; npo defaults to "
                                     "reference=vanilla,retain_weight=1)");
  st->add_option("--eval-items", study.eval_items, "Items per set and patient (evenly spread; 0: all)")
      ->check(CLI::NonNegativeNumber);
  st->add_option("--max-new-tokens", study.max_new_tokens, "Generation budget")->check(CLI::Range(1, 4096));
  st->add_option("--device", study.device, "cpu | cuda | cuda:N");
  st->add_flag("--no-batch", no_batch, "Skip the batch deployments");
  st->callback([] {
    OutputLock lock = claim_output(study_out, {"deploy study", "study", {study_model, study_bench}});
    study.model = study_model;
    study.bench = study_bench;
    study.out = study_out;
    study.batch = !no_batch;
    study.methods.clear();
    for (size_t at = 0; at <= study_methods.size();) {
      const size_t comma = std::min(study_methods.find(',', at), study_methods.size());
      if (comma > at) study.methods.push_back(study_methods.substr(at, comma - at));
      at = comma + 1;
    }
    for (const auto& m : study.methods) make_method(m);  // an unknown method is refused before any work
    for (const auto& o : study_opts) {
      const size_t colon = o.find(':');
      if (colon == std::string::npos || colon == 0)
        fail("--opt '" + o + "': expected METHOD:key=value (e.g. npo:retain_weight=1)");
      study.method_opts[o.substr(0, colon)].push_back(o.substr(colon + 1));
    }
    if (std::filesystem::exists(study_out)) std::filesystem::remove_all(study_out);  // a study's own, by claim_output
    run_sequential_study(study);
    std::printf("%s", read_text(std::filesystem::path(study_out) / "study.md").c_str());
  });

  auto* req = app.add_subcommand("request", "Deletion requests: submit, approve, reject, execute, list, show, certificate");
  req->require_subcommand(1);
  auto* submit = req->add_subcommand("submit", "Record a deletion request; prints its id");
  submit->add_option("deploy", deploy, "Deployment directory")->required();
  submit->add_option("--target", target, "institution:ID | patient:ID | study:ID | section:ID")->required();
  submit->add_option("--basis", basis, "The legal basis (e.g. 'GDPR Art. 17 request of 2026-12-01')")->required();
  submit->add_option("--by", by, "The submitting principal")->required();
  submit->callback([] {
    const DeletionRequest r = submit_request(open_deployment(deploy), target, basis, by);
    std::printf("%s\n", r.id.c_str());
  });
  auto* approve = req->add_subcommand("approve", "Approve a submitted request (a principal other than its submitter)");
  approve->add_option("deploy", deploy, "Deployment directory")->required();
  approve->add_option("id", id, "Request id")->required();
  approve->add_option("--by", by, "The approving principal")->required();
  approve->callback([] { print_request(approve_request(open_deployment(deploy), id, by)); });
  auto* reject = req->add_subcommand("reject", "Reject a submitted or approved request");
  reject->add_option("deploy", deploy, "Deployment directory")->required();
  reject->add_option("id", id, "Request id")->required();
  reject->add_option("--by", by, "The rejecting principal")->required();
  reject->add_option("--reason", reason, "Why")->required();
  reject->callback([] { print_request(reject_request(open_deployment(deploy), id, by, reason)); });
  auto* execute = req->add_subcommand("execute", "Apply every approved request to a new model version, verify each, "
                                                "write its certificate");
  execute->add_option("deploy", deploy, "Deployment directory")->required();
  execute->add_option("--by", exec.by, "The executing principal")->required();
  execute->add_option("--method", exec.method, "Unlearning method (medforget unlearn --list)");
  execute->add_option("--mode", exec.mode, "sequential (a version per request) | batch (one version for all)");
  execute->add_option("--opt", exec.method_opts, "Method option key=value (repeatable)");
  execute->add_option("--device", exec.device, "cpu | cuda | cuda:N");
  execute->add_option("--seed", exec.seed, "Seed")->check(CLI::NonNegativeNumber);
  execute->callback([] {
    const auto outcomes = execute_requests(open_deployment(deploy), exec);
    bool all_ok = true;
    for (const auto& o : outcomes) {
      if (!o.error.empty()) {
        all_ok = false;
        for (const auto& r : o.requests) std::printf("failed   %s: %s\n", r.c_str(), o.error.c_str());
        continue;
      }
      for (const auto& [r, verdict] : o.verdicts) {
        all_ok = all_ok && verdict == "verified";
        std::printf("%-8s %s  %s -> %s\n", verdict.c_str(), r.c_str(), o.parent.c_str(), o.version.c_str());
      }
    }
    if (outcomes.empty()) std::printf("no approved request to execute\n");
    if (!all_ok) fail("request execute: not every request was executed and verified (request show ID says why)");
  });
  auto* cert = req->add_subcommand("certificate", "A verified or failed request's certificate, from the ledger (JSON)");
  cert->add_option("deploy", deploy, "Deployment directory")->required();
  cert->add_option("id", id, "Request id")->required();
  cert->add_option("--html", html, "Also write the printable page to this file");
  cert->callback([] {
    const Deployment d = open_deployment(deploy);
    const Json c = certificate_json(d, d.ledger().entries(), id);
    if (!html.empty()) write_atomic(html, certificate_html(c));
    std::printf("%s\n", c.dump(2).c_str());
  });
  auto* list = req->add_subcommand("list", "Every request and its state");
  list->add_option("deploy", deploy, "Deployment directory")->required();
  list->add_flag("--json", as_json, "As JSON");
  list->callback([] {
    const auto rs = requests_of(open_deployment(deploy).ledger().entries());
    if (as_json) {
      Json a = Json::array();
      for (const auto& r : rs) a.push_back(r.to_json());
      std::printf("%s\n", a.dump(2).c_str());
      return;
    }
    if (rs.empty()) std::printf("no requests\n");
    for (const auto& r : rs) print_request(r);
  });
  auto* show = req->add_subcommand("show", "One request, with its ledger entries, as JSON");
  show->add_option("deploy", deploy, "Deployment directory")->required();
  show->add_option("id", id, "Request id")->required();
  show->callback([] {
    const auto entries = open_deployment(deploy).ledger().entries();
    const DeletionRequest r = find_request(entries, id);
    Json j = r.to_json();
    j["ledger"] = Json::array();
    for (const auto& e : entries)
      if (e.request == id)
        j["ledger"].push_back({{"seq", e.seq}, {"time", e.time}, {"kind", e.kind}, {"body", e.body}, {"hash", e.hash}});
    std::printf("%s\n", j.dump(2).c_str());
  });

  auto* led = app.add_subcommand("ledger", "The deployment's ledger");
  led->require_subcommand(1);
  auto* verify = led->add_subcommand("verify", "Check the hash chain: names an edited, removed, inserted or reordered entry");
  verify->add_option("deploy", deploy, "Deployment directory")->required();
  verify->callback([] {
    const Deployment d = open_deployment(deploy);
    const Ledger l = d.ledger();
    auto problems = l.verify();
    const auto entries = l.entries();
    const size_t n = entries.size();
    // The certificates handed out must still be what the ledger says.
    size_t certs = 0;
    if (problems.empty())
      for (const auto& r : requests_of(entries)) {
        const auto f = d.dir / "certificates" / (r.id + ".json");
        if (!std::filesystem::exists(f)) continue;
        ++certs;
        bool same = false;
        try {
          same = read_json(f) == certificate_json(d, entries, r.id);
        } catch (const std::exception&) {  // unreadable, or no verdict in the ledger: not the ledger's certificate
        }
        if (!same) problems.push_back("certificate " + f.string() + " differs from what the ledger records for " + r.id);
      }
    if (problems.empty()) {
      std::printf("ledger verifies: %zu entries, chain and head intact; %zu certificate(s) match it\n", n, certs);
      return;
    }
    std::string msg = "ledger " + deploy + " does not verify (" + std::to_string(problems.size()) + " problem" +
                      (problems.size() == 1 ? "" : "s") + "):";
    for (const auto& p : problems) msg += "\n  " + p;
    fail(msg);
  });

  auto* tok = app.add_subcommand("token", "Bearer tokens of the HTTP API (medforget serve)");
  tok->require_subcommand(1);
  auto* tadd = tok->add_subcommand("add", "Make a token for a principal and role; it is shown once, the ledger keeps its hash");
  tadd->add_option("deploy", deploy, "Deployment directory")->required();
  tadd->add_option("--principal", principal, "Who holds it")->required();
  tadd->add_option("--role", role, "submitter | approver | auditor")->required();
  tadd->callback([] { std::printf("%s\n", add_token(open_deployment(deploy), principal, role).c_str()); });
  auto* tlist = tok->add_subcommand("list", "Every token's id, principal, role and state (never the token)");
  tlist->add_option("deploy", deploy, "Deployment directory")->required();
  tlist->callback([] {
    const auto ts = tokens_of(open_deployment(deploy).ledger().entries());
    if (ts.empty()) std::printf("no tokens\n");
    for (const auto& t : ts)
      std::printf("%s  %-24s %-9s %s%s\n", t.id.c_str(), t.principal.c_str(), t.role.c_str(), t.created.c_str(),
                  t.revoked ? "  revoked" : "");
  });
  auto* trev = tok->add_subcommand("revoke", "Revoke a token by its id (token list)");
  trev->add_option("deploy", deploy, "Deployment directory")->required();
  trev->add_option("id", id, "Token id")->required();
  trev->callback([] {
    revoke_token(open_deployment(deploy), id);
    std::printf("revoked %s\n", id.c_str());
  });

  auto* srv = app.add_subcommand("serve", "The deployment's requests, executions, ledger and certificates over HTTP");
  srv->add_option("deploy", deploy, "Deployment directory")->required();
  srv->add_option("--listen", listen, "HOST:PORT (default 127.0.0.1:8750: loopback only; port 0 picks a free one)");
  srv->add_option("--device", serve_opt.device, "Where executions run: cpu | cuda | cuda:N");
  srv->add_option("--max-body", serve_opt.max_body, "Largest request body in bytes (larger: 413)")
      ->check(CLI::Range(static_cast<size_t>(1024), static_cast<size_t>(16) << 20));
  srv->callback([] {
    parse_listen(listen, serve_opt);
    serve(open_deployment(deploy), serve_opt);
  });
}

}  // namespace medforget::cli
