#include "deploy/certificate.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "report/svg.hpp"

namespace medforget {

namespace {

bool concerns(const LedgerEntry& e, const std::string& id) {
  if (e.request == id) return true;
  if (!e.request.empty() || !e.body.contains("requests")) return false;
  for (const auto& r : e.body["requests"])
    if (r == id) return true;
  return false;
}

}  // namespace

Json certificate_json(const Deployment& d, const std::vector<LedgerEntry>& entries, const std::string& id) {
  const DeletionRequest r = find_request(entries, id);
  const LedgerEntry *execute = nullptr, *executed = nullptr, *verdict = nullptr;
  for (const auto& e : entries) {
    if (!concerns(e, id)) continue;
    if (e.kind == "execute") execute = &e;
    if (e.kind == "executed") executed = &e;
    if (e.kind == "verify") verdict = &e;
  }
  if (!verdict || !executed || !execute)
    refuse(Refusal::Conflict, "request " + id + " is " + r.state + "; a certificate is issued once it is executed and verified");
  Json req = {{"id", r.id},
              {"level", r.level},
              {"target_key", r.target_key},
              {"target_key_scheme", "HMAC-SHA256(deployment secret, \"<level>:<id>\")"},
              {"basis", r.basis},
              {"submitted_by", r.submitted_by},
              {"submitted_at", r.submitted_at},
              {"approved_by", r.decided_by},
              {"approved_at", r.decided_at}};
  Json exec = {{"version_before", executed->body.value("parent", "")},
               {"version_after", executed->body.value("version", "")},
               {"model_digest_before", executed->body.value("parent_digest", "")},
               {"model_digest_after", executed->body.value("model_digest", "")},
               {"method", execute->body.value("method", "")},
               {"options", execute->body.value("params", Json::object())},
               {"mode", execute->body.value("mode", "")},
               {"requests_in_execution", execute->body.value("requests", Json::array())},
               {"executed_by", execute->body.value("by", "")},
               {"started_at", execute->time},
               {"finished_at", executed->time}};
  return {{"format", "medforget-certificate"},
          {"deployment", {{"bench_digest", d.meta.value("bench_digest", "")}, {"created", d.meta.value("created", "")}}},
          {"request", req},
          {"execution", exec},
          {"policy", verdict->body.value("policy", Json::object())},
          {"checks", verdict->body.value("checks", Json::array())},
          {"verdict", verdict->body.value("verdict", "")},
          {"verified_at", verdict->time},
          {"ledger_entry", {{"seq", verdict->seq}, {"hash", verdict->hash}, {"prev_hash", verdict->prev_hash}}}};
}

std::string certificate_html(const Json& c) {
  auto esc = [](const Json& v) { return report::xml_escape(v.is_string() ? v.get<std::string>() : v.dump()); };
  auto num = [](const Json& v) {
    if (!v.is_number()) return std::string("—");
    char b[32];
    std::snprintf(b, sizeof b, "%.4g", v.get<double>());
    return std::string(b);
  };
  const Json& r = c.at("request");
  const Json& x = c.at("execution");
  const std::string verdict = c.value("verdict", "");
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Deletion certificate " + esc(r.at("id")) +
      "</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#111}"
      "table{border-collapse:collapse;width:100%;margin-bottom:1.5em}td,th{border:1px solid #999;padding:.3em .5em;"
      "text-align:left;vertical-align:top}th{background:#eee}.pass{color:#060}.fail{color:#a00;font-weight:bold}"
      "code{word-break:break-all}</style></head><body>\n";
  h += "<h1>Deletion certificate</h1>\n<p id=\"verdict\" class=\"" + std::string(verdict == "verified" ? "pass" : "fail") +
       "\">Verdict: " + esc(verdict) + "</p>\n";
  h += "<h2>Request</h2>\n<table>\n";
  for (const char* k : {"id", "level", "target_key", "target_key_scheme", "basis", "submitted_by", "submitted_at",
                        "approved_by", "approved_at"})
    h += "<tr><th>" + std::string(k) + "</th><td><code>" + esc(r.value(k, Json(""))) + "</code></td></tr>\n";
  h += "</table>\n<h2>Execution</h2>\n<table>\n";
  for (const char* k : {"version_before", "version_after", "model_digest_before", "model_digest_after", "method",
                        "options", "mode", "requests_in_execution", "executed_by", "started_at", "finished_at"})
    h += "<tr><th>" + std::string(k) + "</th><td><code>" + esc(x.value(k, Json(""))) + "</code></td></tr>\n";
  h += "</table>\n<h2>Checks</h2>\n<table id=\"checks\">\n<tr><th>check</th><th>value</th><th>rule</th>"
       "<th>threshold</th><th>result</th></tr>\n";
  for (const auto& ch : c.at("checks")) {
    const bool ok = ch.value("passed", false);
    h += "<tr><td>" + esc(ch.value("name", "")) + "</td><td>" + num(ch.value("value", Json())) + "</td><td>" +
         esc(ch.value("rule", "")) + "</td><td>" + num(ch.value("threshold", Json())) + "</td><td class=\"" +
         (ok ? "pass\">passed" : "fail\">failed") + "</td></tr>\n";
  }
  const Json& le = c.at("ledger_entry");
  h += "</table>\n<h2>Ledger</h2>\n<p>This verdict is ledger entry " + esc(le.at("seq")) + ", hash <code>" +
       esc(le.at("hash")) + "</code> (previous <code>" + esc(le.at("prev_hash")) +
       "</code>). Check it with <code>medforget ledger verify DEPLOY</code> and compare with <code>medforget request "
       "certificate DEPLOY " + esc(r.at("id")) + "</code>.</p>\n</body></html>\n";
  return h;
}

void write_certificate(const Deployment& d, const std::vector<LedgerEntry>& entries, const std::string& request) {
  const Json c = certificate_json(d, entries, request);
  const auto dir = d.dir / "certificates";
  std::filesystem::create_directories(dir);
  write_json(dir / (request + ".json"), c);
  write_atomic(dir / (request + ".html"), certificate_html(c));
}

}  // namespace medforget
