#include <httplib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <functional>
#include <variant>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "deploy/certificate.hpp"
#include "deploy/execute.hpp"
#include "deploy/server.hpp"
#include "deploy/tokens.hpp"
#include "report/svg.hpp"

namespace medforget {

void parse_listen(const std::string& listen, ServeOptions& opt) {
  static const std::regex re(R"(^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$)");
  std::smatch m;
  if (!std::regex_match(listen, m, re) || std::stoi(m[2]) > 65535)
    fail("--listen '" + listen + "': expected HOST:PORT (e.g. 127.0.0.1:8750; port 0 picks a free one)");
  opt.host = m[1];
  if (opt.host.front() == '[') opt.host = opt.host.substr(1, opt.host.size() - 2);
  opt.port = std::stoi(m[2]);
}

namespace {

// One API call's answer: status and JSON body.
struct Reply {
  int status = 200;
  Json body;
};

Reply error_reply(int status, const std::string& msg) { return {status, {{"error", msg}}}; }

// An execution started over the API; its state is kept until the server stops.
struct Job {
  std::string id, state = "running", by, error;
  std::string started, finished;
  Json outcomes = Json::array();
  Json to_json() const {
    Json j = {{"id", id}, {"state", state}, {"by", by}, {"started", started}, {"outcomes", outcomes}};
    if (!finished.empty()) j["finished"] = finished;
    if (!error.empty()) j["error"] = error;
    return j;
  }
};

class Api {
 public:
  Api(Deployment d, ServeOptions opt) : d_(std::move(d)), opt_(std::move(opt)) {}
  ~Api() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  void routes(httplib::Server& s) {
    s.Get("/api/health", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"ok"})", "application/json");
    });
    handle(s, "GET", "/api/requests", {}, [this](const auto&, const auto&) { return list_requests(); });
    handle(s, "POST", "/api/requests", {"submitter"}, [this](const auto& req, const auto& t) { return submit(req, t); });
    handle(s, "GET", R"(/api/requests/([^/]+))", {}, [this](const auto& req, const auto&) {
      return Reply{200, find_request(d_.ledger().entries(), req.matches[1]).to_json()};
    });
    handle(s, "POST", R"(/api/requests/([^/]+)/approve)", {"approver"}, [this](const auto& req, const auto& t) {
      body_fields(req, {});
      return Reply{200, approve_request(d_, req.matches[1], t.principal).to_json()};
    });
    handle(s, "POST", R"(/api/requests/([^/]+)/reject)", {"approver"}, [this](const auto& req, const auto& t) {
      const Json b = body_fields(req, {"reason"});
      return Reply{200, reject_request(d_, req.matches[1], t.principal, string_field(b, "reason", true)).to_json()};
    });
    handle(s, "POST", "/api/executions", {"approver"}, [this](const auto& req, const auto& t) { return start(req, t); });
    handle(s, "GET", R"(/api/executions/([^/]+))", {}, [this](const auto& req, const auto&) {
      std::lock_guard<std::mutex> g(mu_);
      auto it = jobs_.find(req.matches[1]);
      if (it == jobs_.end()) return error_reply(404, "execution " + std::string(req.matches[1]) + ": no such execution");
      return Reply{200, it->second.to_json()};
    });
    handle(s, "GET", R"(/api/certificates/([^/]+))", {}, [this](const auto& req, const auto&) {
      return Reply{200, certificate_json(d_, d_.ledger().entries(), req.matches[1])};
    });
    handle(s, "GET", "/api/ledger", {"auditor"}, [this](const auto&, const auto&) {
      Json a = Json::array();
      for (const auto& e : d_.ledger().entries())
        a.push_back({{"seq", e.seq}, {"time", e.time}, {"kind", e.kind}, {"request", e.request}, {"body", e.body},
                     {"prev_hash", e.prev_hash}, {"hash", e.hash}});
      return Reply{200, a};
    });
    handle(s, "GET", "/api/ledger/verify", {"auditor"}, [this](const auto&, const auto&) {
      const Ledger l = d_.ledger();
      const auto problems = l.verify();
      return Reply{200, {{"verifies", problems.empty()}, {"entries", l.entries().size()}, {"problems", problems}}};
    });
    // Pages for a browser: the same data, read-only.
    page(s, R"(/certificates/([^/]+)\.html)", [this](const httplib::Request& req) {
      return certificate_html(certificate_json(d_, d_.ledger().entries(), req.matches[1]));
    });
    page(s, "/ledger", [this](const httplib::Request&) { return ledger_page(); });
    s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;
      const std::string msg = res.status == 413   ? "the request body is larger than the server accepts"
                              : res.status == 404 ? "no such route: " + req.method + " " + req.path
                                                  : "request refused";
      res.set_content(Json{{"error", msg}}.dump(), "application/json");
    });
    s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "[serve] %s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
  }

 private:
  using Handler = std::function<Reply(const httplib::Request&, const ApiToken&)>;

  // The token's principal, or the reply that refuses the call.
  std::variant<ApiToken, Reply> authorize(const httplib::Request& req, const std::set<std::string>& roles) {
    const std::string h = req.get_header_value("Authorization");
    if (h.empty()) return error_reply(401, "no bearer token (Authorization: Bearer TOKEN; medforget token add makes one)");
    if (h.rfind("Bearer ", 0) != 0) return error_reply(401, "the Authorization header is not 'Bearer TOKEN'");
    const auto t = find_token(tokens_of(d_.ledger().entries()), h.substr(7));
    if (!t) return error_reply(401, "the bearer token is unknown or revoked");
    if (!roles.empty() && !roles.count(t->role))
      return error_reply(403, "principal " + t->principal + " holds the " + t->role + " role; this needs " +
                                  *roles.begin());
    return *t;
  }

  void handle(httplib::Server& s, const std::string& method, const std::string& pattern, std::set<std::string> roles,
              Handler h) {
    auto run = [this, roles, h](const httplib::Request& req, httplib::Response& res) {
      Reply r;
      auto who = authorize(req, roles);
      if (auto* refused = std::get_if<Reply>(&who)) {
        r = *refused;
      } else {
        try {
          r = h(req, std::get<ApiToken>(who));
        } catch (const RequestRefused& e) {
          r = error_reply(static_cast<int>(e.kind), e.what());
        } catch (const Json::exception& e) {
          r = error_reply(400, std::string("malformed JSON: ") + e.what());
        } catch (const std::exception& e) {
          log_warn(std::string("serve: ") + req.method + " " + req.path + ": " + e.what());
          r = error_reply(500, e.what());
        }
      }
      if (r.status == 401) res.set_header("WWW-Authenticate", "Bearer");
      res.status = r.status;
      res.set_content(r.body.dump(), "application/json");
    };
    if (method == "GET") s.Get(pattern, run);
    else s.Post(pattern, run);
  }

  void page(httplib::Server& s, const std::string& pattern, std::function<std::string(const httplib::Request&)> make) {
    s.Get(pattern, [this, make](const httplib::Request& req, httplib::Response& res) {
      auto who = authorize(req, {});
      if (auto* refused = std::get_if<Reply>(&who)) {
        res.status = refused->status;
        if (res.status == 401) res.set_header("WWW-Authenticate", "Bearer");
        res.set_content(refused->body.dump(), "application/json");
        return;
      }
      try {
        res.set_content(make(req), "text/html; charset=utf-8");
      } catch (const RequestRefused& e) {
        res.status = static_cast<int>(e.kind);
        res.set_content(Json{{"error", e.what()}}.dump(), "application/json");
      } catch (const std::exception& e) {
        res.status = 500;
        res.set_content(Json{{"error", e.what()}}.dump(), "application/json");
      }
    });
  }

  // The body as a JSON object holding only `allowed` fields (an empty body is {}).
  static Json body_fields(const httplib::Request& req, const std::set<std::string>& allowed) {
    if (req.body.empty()) return Json::object();
    Json b;
    try {
      b = Json::parse(req.body);
    } catch (const Json::exception& e) {
      refuse(Refusal::Invalid, std::string("malformed JSON: ") + e.what());
    }
    if (!b.is_object()) refuse(Refusal::Invalid, "the body must be a JSON object");
    for (const auto& [k, v] : b.items())
      if (!allowed.count(k)) refuse(Refusal::Invalid, "unknown field '" + k + "'");
    return b;
  }
  static std::string string_field(const Json& b, const std::string& k, bool required) {
    if (!b.contains(k)) {
      if (required) refuse(Refusal::Invalid, "field '" + k + "' is required");
      return "";
    }
    if (!b[k].is_string()) refuse(Refusal::Invalid, "field '" + k + "' must be a string");
    return b[k].get<std::string>();
  }

  Reply list_requests() {
    Json a = Json::array();
    for (const auto& r : requests_of(d_.ledger().entries())) a.push_back(r.to_json());
    return {200, a};
  }

  Reply submit(const httplib::Request& req, const ApiToken& t) {
    const Json b = body_fields(req, {"target", "basis"});
    const auto r = submit_request(d_, string_field(b, "target", true), string_field(b, "basis", true), t.principal);
    return {201, r.to_json()};
  }

  Reply start(const httplib::Request& req, const ApiToken& t) {
    const Json b = body_fields(req, {"method", "mode", "options"});
    ExecuteOptions o;
    o.by = t.principal;
    o.device = opt_.device;
    if (b.contains("method")) o.method = string_field(b, "method", true);
    if (b.contains("mode")) o.mode = string_field(b, "mode", true);
    if (o.mode != "sequential" && o.mode != "batch") refuse(Refusal::Invalid, "mode '" + o.mode + "': expected sequential or batch");
    if (b.contains("options")) {
      if (!b["options"].is_object()) refuse(Refusal::Invalid, "field 'options' must be an object of method options");
      for (const auto& [k, v] : b["options"].items())
        o.method_opts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    }
    std::lock_guard<std::mutex> g(mu_);
    for (const auto& [id, j] : jobs_)
      if (j.state == "running") refuse(Refusal::Conflict, "execution " + id + " is running; one at a time");
    Job job;
    job.id = "E" + std::to_string(jobs_.size() + 1);
    job.by = t.principal;
    job.started = utc_now();
    jobs_[job.id] = job;
    threads_.emplace_back([this, id = job.id, o] { run_job(id, o); });
    return {202, {{"id", job.id}, {"state", "running"}, {"status", "/api/executions/" + job.id}}};
  }

  void run_job(const std::string& id, const ExecuteOptions& o) {
    Json outcomes = Json::array();
    std::string error;
    try {
      for (const auto& x : execute_requests(d_, o)) {
        Json v = Json::object();
        for (const auto& [r, verdict] : x.verdicts) v[r] = verdict;
        outcomes.push_back({{"version", x.version}, {"parent", x.parent}, {"requests", x.requests},
                            {"verdicts", v}, {"error", x.error}});
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
    std::lock_guard<std::mutex> g(mu_);
    Job& j = jobs_.at(id);
    j.outcomes = outcomes;
    j.error = error;
    j.state = error.empty() ? "done" : "failed";
    j.finished = utc_now();
  }

  std::string ledger_page() {
    const Ledger l = d_.ledger();
    const auto entries = l.entries();
    const auto problems = l.verify();
    auto e = [](const std::string& s) { return report::xml_escape(s); };
    std::string h =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Deletion ledger</title>\n<style>"
        "body{font-family:sans-serif;margin:2em;color:#111}table{border-collapse:collapse;margin-bottom:2em}"
        "td,th{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#eee}"
        "code{font-size:85%;word-break:break-all}.bad{color:#a00;font-weight:bold}.ok{color:#060}</style></head><body>\n"
        "<h1>Deletion ledger</h1>\n";
    h += problems.empty() ? "<p id=\"chain\" class=\"ok\">The chain verifies: " + std::to_string(entries.size()) + " entries.</p>\n"
                          : "<p id=\"chain\" class=\"bad\">The chain does not verify:</p><ul>";
    for (const auto& p : problems) h += "<li class=\"bad\">" + e(p) + "</li>";
    if (!problems.empty()) h += "</ul>\n";
    h += "<h2>Requests</h2>\n<table id=\"requests\"><tr><th>request</th><th>level</th><th>state</th><th>submitted</th>"
         "<th>decided</th><th>version</th><th>certificate</th></tr>\n";
    for (const auto& r : requests_of(entries)) {
      const bool cert = r.state == "verified" || (r.state == "failed" && !r.version.empty());
      h += "<tr><td><code>" + e(r.id) + "</code></td><td>" + e(r.level) + "</td><td>" + e(r.state) + "</td><td>" +
           e(r.submitted_by) + " " + e(r.submitted_at) + "</td><td>" + e(r.decided_by) + " " + e(r.decided_at) +
           "</td><td>" + e(r.version) + "</td><td>" +
           (cert ? "<a href=\"/certificates/" + e(r.id) + ".html\">certificate</a>" : "") + "</td></tr>\n";
    }
    h += "</table>\n<h2>Entries</h2>\n<table id=\"entries\"><tr><th>#</th><th>time</th><th>kind</th><th>request</th>"
         "<th>hash</th></tr>\n";
    for (const auto& x : entries)
      h += "<tr><td>" + std::to_string(x.seq) + "</td><td>" + e(x.time) + "</td><td>" + e(x.kind) + "</td><td><code>" +
           e(x.request) + "</code></td><td><code>" + e(x.hash) + "</code></td></tr>\n";
    h += "</table>\n</body></html>\n";
    return h;
  }

  Deployment d_;
  ServeOptions opt_;
  std::mutex mu_;
  std::map<std::string, Job> jobs_;
  std::vector<std::thread> threads_;
};

// Debian's cpp-httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG,
// fixed in its shared library). Under a burst of clients the kernel then drops
// handshakes and their first data, which can arrive after the server has given
// up waiting for the request. Linux lets listen() on a listening socket set a
// new backlog, so the server's socket is found by its port and given a larger one.
void widen_backlog(int port) {
  for (int fd = 0; fd < 1024; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t alen = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &alen) != 0) continue;
    const int p = addr.ss_family == AF_INET    ? ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port)
                  : addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                               : -1;
    if (p == port) ::listen(fd, SOMAXCONN);
  }
}

}  // namespace

void serve(const Deployment& d, const ServeOptions& opt) {
  // SIGINT / SIGTERM end the server from a thread of its own, not from a handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  httplib::Server s;
  s.set_payload_max_length(opt.max_body);
  s.set_read_timeout(30, 0);
  s.set_keep_alive_timeout(30);  // a client's first bytes may come late under load
  Api api(d, opt);
  api.routes(s);
  int port = opt.port;
  if (port == 0) {
    port = s.bind_to_any_port(opt.host);
    if (port < 0) fail("serve: cannot listen on " + opt.host);
  } else if (!s.bind_to_port(opt.host, port)) {
    fail("serve: cannot listen on " + opt.host + ":" + std::to_string(port) + " (in use, or not an address of this machine)");
  }
  widen_backlog(port);
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    s.stop();
  });
  std::printf("listening on http://%s:%d\n", opt.host.c_str(), port);
  std::fflush(stdout);
  s.listen_after_bind();
  pthread_kill(stopper.native_handle(), SIGTERM);
  stopper.join();
}

}  // namespace medforget
