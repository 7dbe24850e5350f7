// A deployment's ledger on a real SQLite file: the hash chain names an edited,
// removed, inserted or reordered entry and a cut-off end; requests go from
// submission to approval by another principal; identifiers never reach the file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>

#include "core/fs.hpp"
#include "core/json.hpp"
#include "deploy/deployment.hpp"
#include "deploy/ledger.hpp"
#include "deploy_fixture.hpp"
#include "test_util.hpp"

using namespace medforget;
namespace fs = std::filesystem;
using Deploy = test::DeployFixture;

namespace {

const std::string kSecret(64, 'a');

// Tampering as someone with write access to the file would: plain SQL.
void sql(const fs::path& db, const std::string& statement) {
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, statement.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in " << statement;
  sqlite3_free(err);
  sqlite3_close(h);
}

fs::path ledger_of_five(const test::TempDir& t) {
  const fs::path db = t / "ledger.sqlite";
  Ledger l = Ledger::create(db, kSecret);
  for (int i = 1; i <= 5; ++i) {
    std::string id = "R";
    id += std::to_string(i);  // not "R" + to_string: GCC 12 warns falsely (-Wstringop-overflow) on that
    l.append("note", id, {{"n", i}});
  }
  return db;
}

std::string problems_of(const fs::path& db, const std::string& secret = kSecret) {
  std::string s;
  for (const auto& p : Ledger::open(db, secret).verify()) s += p + "\n";
  return s;
}

}  // namespace

TEST(Ledger, AnIntactChainVerifies) {
  test::TempDir t;
  const fs::path db = ledger_of_five(t);
  Ledger l = Ledger::open(db, kSecret);
  const auto v = l.entries();
  ASSERT_EQ(v.size(), 5u);
  for (size_t i = 0; i < v.size(); ++i) {
    EXPECT_EQ(v[i].seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(v[i].prev_hash, i == 0 ? "" : v[i - 1].hash);
    EXPECT_EQ(v[i].hash, entry_hash(v[i]));
  }
  EXPECT_EQ(problems_of(db), "");
  // WAL mode: readers never wait for the writer.
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s, nullptr);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0))), "wal");
  sqlite3_finalize(s);
  sqlite3_close(h);
}

TEST(Ledger, NamesAnEditedEntry) {
  test::TempDir t;
  const fs::path db = ledger_of_five(t);
  sql(db, "UPDATE entries SET body = '{\"n\":30}' WHERE seq = 3");
  const std::string p = problems_of(db);
  test::expect_contains(p, "entry 3 was edited");
  EXPECT_EQ(p.find("entry 4"), std::string::npos) << p;  // its successor still links to the hash it carries
}

TEST(Ledger, NamesARemovedEntryAndACutOffEnd) {
  test::TempDir t;
  const fs::path db = ledger_of_five(t);
  sql(db, "DELETE FROM entries WHERE seq = 3");
  test::expect_contains(problems_of(db), "entry 3 was removed");
  test::TempDir t2;
  const fs::path db2 = ledger_of_five(t2);
  sql(db2, "DELETE FROM entries WHERE seq >= 4");
  test::expect_contains(problems_of(db2), "the ledger ends at entry 3 but its head records 5 entries");
}

TEST(Ledger, NamesAnInsertedEntry) {
  test::TempDir t;
  const fs::path db = ledger_of_five(t);
  // A forger without a way to recompute the rest: a well-formed entry 3 (its own hash right), the rest shifted.
  Ledger l = Ledger::open(db, kSecret);
  const auto v = l.entries();
  LedgerEntry forged;
  forged.seq = 3;
  forged.time = v[2].time;
  forged.kind = "approve";
  forged.request = "R3";
  forged.body = {{"by", "mallory"}};
  forged.prev_hash = v[1].hash;
  forged.hash = entry_hash(forged);
  sql(db, "UPDATE entries SET seq = seq + 100 WHERE seq >= 3; UPDATE entries SET seq = seq - 99 WHERE seq >= 100;");
  sql(db, "INSERT INTO entries VALUES (3, '" + forged.time + "', 'approve', 'R3', '" + forged.body.dump() + "', '" +
              forged.prev_hash + "', '" + forged.hash + "')");
  const std::string p = problems_of(db);
  test::expect_contains(p, "entry 3 was inserted: entry 4 follows entry 2 in the chain");
}

TEST(Ledger, NamesReorderedEntries) {
  test::TempDir t;
  const fs::path db = ledger_of_five(t);
  sql(db, "UPDATE entries SET seq = 100 WHERE seq = 2; UPDATE entries SET seq = 2 WHERE seq = 3; "
          "UPDATE entries SET seq = 3 WHERE seq = 100;");
  const std::string p = problems_of(db);
  test::expect_contains(p, "entry 2 was edited");  // its number is part of what its hash covers
  test::expect_contains(p, "is out of order");
}

TEST(Ledger, TheHeadNeedsTheDeploymentsSecret) {
  test::TempDir t;
  const fs::path db = ledger_of_five(t);
  test::expect_contains(problems_of(db, std::string(64, 'b')), "head record was altered");
  // Cutting the end and rewriting the head without the secret does not pass either.
  sql(db, "DELETE FROM entries WHERE seq = 5; UPDATE head SET value = '4 x y'");
  test::expect_contains(problems_of(db), "head record was altered");
}

// ---- the deployment and its requests, through the CLI -----------------------

TEST_F(Deploy, InitMakesTheDeploymentWithASecretOnlyItsOwnerReads) {
  EXPECT_TRUE(fs::exists(dir_ / "versions" / "v0001" / "manifest.json"));
  EXPECT_TRUE(fs::exists(dir_ / "policy.json"));
  EXPECT_EQ(fs::status(dir_ / "secret").permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  const auto v = open_deployment(dir_).ledger().entries();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, "init");
  EXPECT_EQ(v[0].body["version"], "v0001");
  // Never over an existing directory.
  auto r = cli("deploy init --model " + test::trained_tiny().model.string() + " --bench " + bench_.string() +
               " --out " + dir_.string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "exists");
  r = cli("deploy init --model " + bench_.string() + "/nothing --bench " + bench_.string() + " --out " + (t_ / "d2").string());
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "not a finished medforget directory");
  EXPECT_FALSE(fs::exists(t_ / "d2"));
}

TEST_F(Deploy, ARequestIsApprovedByAnotherPrincipalAndItsTargetNeverReachesTheLedger) {
  const std::string p = patients_[0];
  const std::string id = submit("patient:" + p, "alice", "GDPR Art. 17; x'); DROP TABLE entries;--");
  ASSERT_EQ(id.size(), 17u) << id;
  // The submitter cannot approve; the refusal writes nothing.
  const size_t before = entries();
  auto r = cli("request approve " + dir_.string() + " " + id + " --by alice");
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "must be approved by another principal");
  EXPECT_EQ(entries(), before);
  // The same target again while it is open: refused.
  r = cli("request submit " + dir_.string() + " --target patient:" + p + " --basis again --by carol");
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "is already submitted");
  r = cli("request approve " + dir_.string() + " " + id + " --by bob");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "approved by bob");
  r = cli("request approve " + dir_.string() + " " + id + " --by carol");
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "is approved; only a submitted request is approved");

  r = cli("request show " + dir_.string() + " " + id);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Json shown = Json::parse(r.output);
  EXPECT_EQ(shown["state"], "approved");
  EXPECT_EQ(shown["submitted_by"], "alice");
  EXPECT_EQ(shown["decided_by"], "bob");
  EXPECT_EQ(shown["basis"], "GDPR Art. 17; x'); DROP TABLE entries;--");  // stored as text, not run
  EXPECT_EQ(shown["ledger"].size(), 2u);
  EXPECT_EQ(shown["target_key"].get<std::string>().size(), 64u);
  // Neither the database nor its WAL holds the patient's id in the clear.
  for (const char* f : {"ledger.sqlite", "ledger.sqlite-wal"}) {
    if (!fs::exists(dir_ / f)) continue;
    EXPECT_EQ(read_text(dir_ / f).find(p), std::string::npos) << f;
  }
  EXPECT_EQ(r.output.find(p), std::string::npos);
  r = cli("ledger verify " + dir_.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  test::expect_contains(r.output, "ledger verifies: 3 entries");
  // A rejected request closes; the target can be requested again.
  const std::string id2 = submit("patient:" + patients_[1], "alice");
  r = cli("request reject " + dir_.string() + " " + id2 + " --by bob --reason 'not our data subject'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  submit("patient:" + patients_[1], "alice");
  r = cli("request list " + dir_.string());
  test::expect_contains(r.output, "rejected");
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 3);
}

TEST_F(Deploy, BadInputIsRefusedAndChangesNothing) {
  const size_t before = entries();
  const std::string d = dir_.string();
  for (const auto& [args, msg] : std::vector<std::pair<std::string, std::string>>{
           {"request submit " + d + " --target patient:NOPE --basis b --by alice", "unknown target"},
           {"request submit " + d + " --target ward:" + patients_[0] + " --basis b --by alice", "expected LEVEL:ID"},
           {"request submit " + d + " --target study:" + patients_[0] + " --basis b --by alice", "unknown target"},
           {"request submit " + d + " --target patient:../../etc/passwd --basis b --by alice", "unknown target"},
           {"request submit " + d + " --target patient:" + patients_[0] + " --basis b --by ../alice", "a principal is"},
           {"request submit " + d + " --target patient:" + patients_[0] + " --basis b --by \"a'; DROP TABLE x\"", "a principal is"},
           {"request submit " + d + " --target patient:" + patients_[0] + " --basis '' --by alice", "--basis is empty"},
           {"request submit " + d + " --target patient:" + patients_[0] + " --basis \"$(printf 'a\\tb')\" --by alice",
            "control character"},
           {"request approve " + d + " R0000000000000000 --by bob", "no such request"},
           {"request approve " + d + " \"R1' OR '1'='1\" --by bob", "no such request"},
           {"request submit " + (t_ / "nowhere").string() + " --target patient:x --basis b --by a", "is not a deployment"}}) {
    auto r = cli(args);
    EXPECT_NE(r.exit_code, 0) << args;
    test::expect_contains(r.output, msg);
  }
  EXPECT_EQ(entries(), before);
  EXPECT_EQ(cli("ledger verify " + d).exit_code, 0);
  // A tampered ledger: verify fails naming the entry.
  submit("patient:" + patients_[0], "alice");
  sql(dir_ / "ledger.sqlite", "UPDATE entries SET body = replace(body, 'alice', 'mallory') WHERE seq = 2");
  auto r = cli("ledger verify " + d);
  EXPECT_NE(r.exit_code, 0);
  test::expect_contains(r.output, "entry 2 was edited");
}

// Submissions from many processes at once: each one lands once, and the chain holds.
TEST_F(Deploy, ConcurrentSubmissionsAreNeitherLostNorDuplicated) {
  const size_t n = std::min<size_t>(sections_.size(), 24);
  ASSERT_GE(n, 8u);
  std::string cmd;
  for (size_t i = 0; i < n; ++i)
    cmd += std::string(MEDFORGET_BIN) + " request submit " + dir_.string() + " --target section:" + sections_[i] +
           " --basis b --by alice > " + (t_ / ("id" + std::to_string(i))).string() + " 2>&1 & ";
  ASSERT_EQ(test::run_command(cmd + "wait").exit_code, 0);
  std::set<std::string> ids;
  for (size_t i = 0; i < n; ++i) {
    std::string id = read_text(t_ / ("id" + std::to_string(i)));
    while (!id.empty() && id.back() == '\n') id.pop_back();
    EXPECT_EQ(id.size(), 17u) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), n);
  const auto rs = requests_of(open_deployment(dir_).ledger().entries());
  EXPECT_EQ(rs.size(), n);
  std::set<std::string> keys;
  for (const auto& r : rs) keys.insert(r.target_key);
  EXPECT_EQ(keys.size(), n);
  auto r = cli("ledger verify " + dir_.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}
