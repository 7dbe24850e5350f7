// `medforget serve` over real HTTP on loopback: the whole workflow with
// bearer tokens and roles, every kind of bad input answered with its 4xx and
// no change, concurrent submissions, and the ledger page in headless Chromium.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "core/fs.hpp"
#include "core/json.hpp"
#include "deploy/policy.hpp"
#include "deploy_fixture.hpp"

using namespace medforget;
namespace fs = std::filesystem;

namespace {

class Serve : public test::DeployFixture {
 protected:
  void SetUp() override {
    test::DeployFixture::SetUp();
    alice_ = token("alice", "submitter");
    bob_ = token("bob", "approver");
    audrey_ = token("audrey", "auditor");
  }
  void TearDown() override { stop(); }

  std::string token(const std::string& who, const std::string& role) {
    auto r = cli("token add " + dir_.string() + " --principal " + who + " --role " + role);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::string t = r.output.substr(r.output.rfind("mft_"));
    while (!t.empty() && t.back() == '\n') t.pop_back();
    return t;
  }
  // Starts the server on a free loopback port and waits for its "listening" line.
  void start() {
    const fs::path log = t_ / "serve.log";
    pid_ = fork();
    if (pid_ == 0) {
      const std::string cmd = std::string(MEDFORGET_BIN) + " serve " + dir_.string() + " --listen 127.0.0.1:0 > " +
                              log.string() + " 2>&1";
      execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 500 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      const std::string s = fs::exists(log) ? read_text(log) : "";
      const auto at = s.find("listening on http://127.0.0.1:");
      if (at != std::string::npos && s.find('\n', at) != std::string::npos)
        port_ = std::stoi(s.substr(at + std::string("listening on http://127.0.0.1:").size()));
    }
    ASSERT_GT(port_, 0) << (fs::exists(log) ? read_text(log) : "no log");
  }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int st = 0;
    waitpid(pid_, &st, 0);
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "serve did not stop cleanly: " << read_text(t_ / "serve.log");
    pid_ = -1;
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(120, 0);
    return c;
  }
  struct Res {
    int status = 0;
    Json body;
    std::string text;
  };
  Res call(const std::string& method, const std::string& path, const std::string& tok, const std::string& body = "",
           const std::string& content_type = "application/json") {
    auto c = client();
    httplib::Headers h;
    if (!tok.empty()) h.emplace("Authorization", tok.rfind("Basic", 0) == 0 ? tok : "Bearer " + tok);
    auto r = method == "GET" ? c.Get(path, h) : c.Post(path, h, body, content_type);
    Res out;
    if (!r) {
      ADD_FAILURE() << method << " " << path << ": no answer (" << httplib::to_string(r.error()) << ")";
      return out;
    }
    out.status = r->status;
    out.text = r->body;
    if (r->get_header_value("Content-Type").rfind("application/json", 0) == 0) out.body = Json::parse(r->body);
    return out;
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::string alice_, bob_, audrey_;
};

TEST_F(Serve, TheWholeWorkflowOverHttpWithTokensAndRoles) {
  Policy p;
  p.forget_drop_min = 0.2;
  p.mia_auc_max_distance = 0.5;
  p.leakage_max = 10;
  p.retain_tolerance = 100;
  p.general_tolerance = 100;
  p.eval_items = 8;
  p.max_new_tokens = 16;
  write_json(dir_ / "policy.json", p.to_json());
  start();
  auto r = call("GET", "/api/health", "");
  EXPECT_EQ(r.status, 200);
  r = call("POST", "/api/requests", alice_,
           Json{{"target", "patient:" + patients_[0]}, {"basis", "GDPR Art. 17"}}.dump());
  ASSERT_EQ(r.status, 201) << r.text;
  const std::string id = r.body["id"];
  EXPECT_EQ(r.body["submitted_by"], "alice");
  r = call("POST", "/api/requests/" + id + "/approve", bob_);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["state"], "approved");
  r = call("POST", "/api/executions", bob_, R"({"method": "chip", "options": {"cap": 8, "k": 0.5, "layer_fraction": 1}})");
  ASSERT_EQ(r.status, 202) << r.text;
  const std::string job = r.body["id"];
  // A second execution while one runs: refused.
  auto again = call("POST", "/api/executions", bob_, "{}");
  if (again.body.value("error", "").find("running") != std::string::npos) {
    EXPECT_EQ(again.status, 409);
  }
  for (int i = 0; i < 3000; ++i) {
    r = call("GET", "/api/executions/" + job, audrey_);
    if (r.body.value("state", "") != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(r.body["state"], "done") << r.text;
  EXPECT_EQ(r.body["outcomes"][0]["verdicts"][id], "verified") << r.text;
  EXPECT_EQ(r.body["by"], "bob");
  r = call("GET", "/api/requests/" + id, alice_);
  EXPECT_EQ(r.body["state"], "verified");
  r = call("GET", "/api/certificates/" + id, audrey_);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body, read_json(dir_ / "certificates" / (id + ".json")));
  EXPECT_EQ(r.body["execution"]["executed_by"], "bob");
  r = call("GET", "/api/ledger/verify", audrey_);
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_TRUE(r.body["verifies"].get<bool>());

  // The read-only pages, rendered by headless Chromium: the DOM holds the chain's state and the request.
  for (const auto& [path, expect] : std::vector<std::pair<std::string, std::string>>{
           {"/ledger", "The chain verifies"}, {"/certificates/" + id + ".html", "Verdict: verified"}}) {
    r = call("GET", path, audrey_);
    ASSERT_EQ(r.status, 200) << path;
    const fs::path page = t_ / "page.html";
    std::ofstream(page) << r.text;
    const auto dom = test::run_command(
        "B=$(command -v chromium || command -v chromium-browser) || exit 3; P=$(mktemp -d); timeout 120 \"$B\" "
        "--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --user-data-dir=$P "
        "--dump-dom file://" + page.string() + " 2>/dev/null; rc=$?; rm -rf $P; exit $rc");
    if (dom.exit_code == 3) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
    ASSERT_EQ(dom.exit_code, 0) << dom.output;
    test::expect_contains(dom.output, expect);
    test::expect_contains(dom.output, id);
  }
}

TEST_F(Serve, BadInputGetsItsStatusAndAClearMessageAndChangesNothing) {
  const std::string carol_s = token("carol", "submitter"), carol_a = token("carol", "approver");
  const std::string revoked = token("mallory", "submitter");
  auto r = cli("token list " + dir_.string());
  const std::string line = r.output.substr(r.output.find("mallory") - 14, 12);
  ASSERT_EQ(cli("token revoke " + dir_.string() + " " + line).exit_code, 0);
  start();
  // A request carol submitted, for the approval cases.
  r = cli("request submit " + dir_.string() + " --target patient:" + patients_[1] + " --basis b --by carol");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string mine = r.output;
  while (!mine.empty() && mine.back() == '\n') mine.pop_back();
  mine = mine.substr(mine.rfind('\n') + 1);
  const size_t before = entries();
  const std::string ok_body = Json{{"target", "patient:" + patients_[0]}, {"basis", "b"}}.dump();
  struct Case {
    std::string method, path, token, body;
    int status;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"POST", "/api/requests", "", ok_body, 401, "no bearer token"},
      {"POST", "/api/requests", "mft_" + std::string(48, '0'), ok_body, 401, "unknown or revoked"},
      {"POST", "/api/requests", revoked, ok_body, 401, "unknown or revoked"},
      {"POST", "/api/requests", "Basic YWxpY2U6eA==", ok_body, 401, "not 'Bearer TOKEN'"},
      {"POST", "/api/requests", bob_, ok_body, 403, "this needs submitter"},
      {"POST", "/api/requests", audrey_, ok_body, 403, "this needs submitter"},
      {"GET", "/api/ledger", alice_, "", 403, "this needs auditor"},
      {"POST", "/api/requests", alice_, "{\"target\": ", 400, "malformed JSON"},
      {"POST", "/api/requests", alice_, "[1, 2]", 400, "must be a JSON object"},
      {"POST", "/api/requests", alice_, R"({"target": "patient:x", "basis": "b", "by": "bob"})", 400, "unknown field 'by'"},
      {"POST", "/api/requests", alice_, R"({"basis": "b"})", 400, "field 'target' is required"},
      {"POST", "/api/requests", alice_, Json{{"target", "patient:" + patients_[0]}, {"basis", 17}}.dump(), 400,
       "must be a string"},
      {"POST", "/api/requests", alice_, Json{{"target", "patient:" + patients_[0]}, {"basis", ""}}.dump(), 400, "is empty"},
      {"POST", "/api/requests", alice_, Json{{"target", "patient:" + patients_[0]}, {"basis", "a\nb"}}.dump(), 400,
       "control character"},
      {"POST", "/api/requests", alice_, Json{{"target", "patient:" + patients_[0]}, {"basis", std::string(100000, 'x')}}.dump(),
       413, "larger than the server accepts"},
      {"POST", "/api/requests", alice_, R"({"target": "patient:NOPE", "basis": "b"})", 422, "unknown target"},
      {"POST", "/api/requests", alice_, R"({"target": "patient:../../etc/passwd", "basis": "b"})", 422, "unknown target"},
      {"POST", "/api/requests", alice_, R"({"target": "patient:x' OR '1'='1", "basis": "b"})", 422, "unknown target"},
      {"POST", "/api/requests", alice_, R"({"target": "ward/../x:1", "basis": "b"})", 400, "expected LEVEL:ID"},
      {"POST", "/api/requests", alice_, Json{{"target", "patient:" + patients_[1]}, {"basis", "b"}}.dump(), 409,
       "already submitted"},
      {"POST", "/api/requests/" + mine + "/approve", carol_a, "", 403, "must be approved by another principal"},
      {"POST", "/api/requests/" + mine + "/approve", alice_, "", 403, "this needs approver"},
      {"POST", "/api/requests/R0000000000000000/approve", bob_, "", 404, "no such request"},
      {"POST", "/api/requests/..%2F..%2Fsecret/approve", bob_, "", 404, "no such"},
      {"POST", "/api/requests/" + mine + "/reject", bob_, "{}", 400, "field 'reason' is required"},
      {"POST", "/api/requests/" + mine + "/approve", bob_, "{\"x\": 1}", 400, "unknown field 'x'"},
      {"GET", "/api/requests/x';DROP%20TABLE%20entries;--", alice_, "", 404, "no such request"},
      {"GET", "/api/certificates/" + mine, audrey_, "", 409, "a certificate is issued once"},
      {"GET", "/api/executions/E99", audrey_, "", 404, "no such execution"},
      {"POST", "/api/executions", bob_, R"({"mode": "all"})", 400, "expected sequential or batch"},
      {"POST", "/api/executions", bob_, R"({"options": [1]})", 400, "must be an object"},
      {"GET", "/api/nothing", alice_, "", 404, "no such route"},
  };
  for (const auto& c : cases) {
    const Res res = call(c.method, c.path, c.token, c.body);
    EXPECT_EQ(res.status, c.status) << c.method << " " << c.path << " " << c.body.substr(0, 80) << ": " << res.text;
    test::expect_contains(res.body.value("error", ""), c.message);
    if (c.status == 401) {
      EXPECT_EQ(res.status, 401);
    }
  }
  EXPECT_EQ(entries(), before);
  EXPECT_EQ(cli("ledger verify " + dir_.string()).exit_code, 0);
  // SQL in a free-text field is text: stored as written, the ledger intact.
  const std::string sql = "x'); DROP TABLE entries; --";
  Res res = call("POST", "/api/requests", carol_s, Json{{"target", "patient:" + patients_[0]}, {"basis", sql}}.dump());
  ASSERT_EQ(res.status, 201) << res.text;
  EXPECT_EQ(call("GET", "/api/requests/" + res.body["id"].get<std::string>(), audrey_).body["basis"], sql);
  EXPECT_EQ(entries(), before + 1);
  EXPECT_EQ(cli("ledger verify " + dir_.string()).exit_code, 0);
}

// 200 clients at once, each submitting a distinct target, and 50 more repeating
// one of them: every distinct submission is answered 201 and lands once, every
// repeat is refused 409, and the chain verifies. The `paper` benchmark's
// hierarchy gives the 200 targets (submissions never load the model).
TEST_F(Serve, TwoHundredConcurrentSubmissionsAreNeitherLostNorDuplicated) {
  const fs::path bench = t_ / "paper-bench";
  auto r = cli("data build --preset paper --seed 5 --out " + bench.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  dir_ = t_ / "paper-deploy";
  r = cli("deploy init --model " + test::trained_tiny().model.string() + " --bench " + bench.string() + " --out " +
          dir_.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  alice_ = token("alice", "submitter");
  start();
  std::vector<std::string> targets;
  const Json h = read_json(bench / "hierarchy.json");
  for (const auto& n : h.at("nodes"))
    if (n.at("level") == "section" && targets.size() < 200) targets.push_back("section:" + n.at("id").get<std::string>());
  ASSERT_EQ(targets.size(), 200u);
  const size_t n = targets.size(), repeats = 50;
  std::vector<Res> results(n + repeats);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n + repeats; ++i)
    threads.emplace_back([&, i] {
      results[i] = call("POST", "/api/requests", alice_, Json{{"target", targets[i % n]}, {"basis", "b"}}.dump());
    });
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  size_t created = 0, conflicts = 0;
  for (const auto& res : results) {
    if (res.status == 201) ++created, ids.insert(res.body["id"].get<std::string>());
    if (res.status == 409) ++conflicts;
  }
  EXPECT_EQ(created, n);
  EXPECT_EQ(conflicts, repeats);
  EXPECT_EQ(ids.size(), n);
  const auto rs = requests_of(open_deployment(dir_).ledger().entries());
  EXPECT_EQ(rs.size(), n);
  std::set<std::string> keys;
  for (const auto& q : rs) {
    keys.insert(q.target_key);
    EXPECT_TRUE(ids.count(q.id)) << q.id;
  }
  EXPECT_EQ(keys.size(), n);
  r = cli("ledger verify " + dir_.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::printf("[serve] %zu concurrent submissions: %zu created, %zu refused as repeats, %zu in the ledger\n",
              n + repeats, created, conflicts, rs.size());
}

}  // namespace
