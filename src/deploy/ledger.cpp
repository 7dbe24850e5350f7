#include "deploy/ledger.hpp"

#include <openssl/hmac.h>
#include <sqlite3.h>

#include <ctime>
#include <map>
#include <sstream>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"

namespace medforget {

namespace fs = std::filesystem;

namespace {

constexpr int kBusyTimeoutMs = 30000;  // concurrent writers queue on the lock instead of failing

// A prepared statement, finalised with its scope.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s_, nullptr) != SQLITE_OK)
      fail("ledger: " + std::string(sqlite3_errmsg(db)) + " (in: " + sql + ")");
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  bool step() {  // true: a row
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("ledger: " + std::string(sqlite3_errmsg(db_)));
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(s_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s_, col))) : "";
  }
  int64_t integer(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
};

std::string head_value(const std::string& secret, int64_t count, const std::string& hash) {
  return std::to_string(count) + " " + hash + " " + hmac_sha256_hex(secret, std::to_string(count) + " " + hash);
}

sqlite3* open_db(const fs::path& path, int flags) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    fail("ledger " + path.string() + ": cannot open (" + msg + ")");
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  return db;
}

}  // namespace

std::string hmac_sha256_hex(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out, &n))
    fail("HMAC-SHA256 failed");
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned int i = 0; i < n; ++i) {
    s += hex[out[i] >> 4];
    s += hex[out[i] & 15];
  }
  return s;
}

std::string entry_hash(const LedgerEntry& e) {
  // Length-prefixed fields: no two different entries share a preimage.
  std::string src = "medforget-ledger-v1";
  for (const std::string& f : {std::to_string(e.seq), e.time, e.kind, e.request, e.body.dump(), e.prev_hash})
    src += "\n" + std::to_string(f.size()) + ":" + f;
  return sha256_hex(src);
}

Ledger::Ledger(sqlite3* db, fs::path path, std::string secret)
    : db_(db), path_(std::move(path)), secret_(std::move(secret)) {}

Ledger::~Ledger() { sqlite3_close(db_); }

Ledger::Ledger(Ledger&& o) noexcept : db_(o.db_), path_(std::move(o.path_)), secret_(std::move(o.secret_)) {
  o.db_ = nullptr;
}

Ledger& Ledger::operator=(Ledger&& o) noexcept {
  if (this != &o) {
    sqlite3_close(db_);
    db_ = o.db_;
    o.db_ = nullptr;
    path_ = std::move(o.path_);
    secret_ = std::move(o.secret_);
  }
  return *this;
}

void Ledger::exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    const std::string msg = err ? err : "?";
    sqlite3_free(err);
    fail("ledger " + path_.string() + ": " + msg);
  }
}

Ledger Ledger::create(const fs::path& db, const std::string& secret) {
  if (fs::exists(db)) fail("ledger " + db.string() + ": already exists");
  Ledger l(open_db(db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX), db, secret);
  l.exec("PRAGMA journal_mode=WAL");
  l.exec("PRAGMA synchronous=FULL");  // an acknowledged request survives a power cut
  l.exec(
      "CREATE TABLE entries (seq INTEGER PRIMARY KEY, time TEXT NOT NULL, kind TEXT NOT NULL, request TEXT NOT NULL, "
      "body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
      "CREATE TABLE head (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL);");
  Stmt(l.db_, "INSERT INTO head (id, value) VALUES (1, ?)").bind(1, head_value(secret, 0, "")).step();
  return l;
}

Ledger Ledger::open(const fs::path& db, const std::string& secret) {
  if (!fs::is_regular_file(db)) fail("ledger " + db.string() + ": no such file (is this a deployment directory?)");
  Ledger l(open_db(db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX), db, secret);
  l.exec("PRAGMA synchronous=FULL");
  return l;
}

std::vector<LedgerEntry> Ledger::read_entries() const {
  std::vector<LedgerEntry> v;
  Stmt s(db_, "SELECT seq, time, kind, request, body, prev_hash, hash FROM entries ORDER BY seq");
  while (s.step()) {
    LedgerEntry e;
    e.seq = s.integer(0);
    e.time = s.text(1);
    e.kind = s.text(2);
    e.request = s.text(3);
    try {
      e.body = Json::parse(s.text(4));
    } catch (const std::exception&) {
      e.body = s.text(4);  // unparseable: kept as text, so verify() reports the entry as edited
    }
    e.prev_hash = s.text(5);
    e.hash = s.text(6);
    v.push_back(std::move(e));
  }
  return v;
}

std::vector<LedgerEntry> Ledger::entries() const {
  exec("BEGIN");
  try {
    auto v = read_entries();
    exec("COMMIT");
    return v;
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

LedgerEntry Ledger::append(const std::string& kind, const std::string& request, const Json& body,
                           const std::function<void(const std::vector<LedgerEntry>&)>& check) {
  exec("BEGIN IMMEDIATE");  // the write lock first: the check and the append see the same ledger
  try {
    const auto all = read_entries();
    if (check) check(all);
    LedgerEntry e;
    e.seq = all.empty() ? 1 : all.back().seq + 1;
    e.time = utc_now();
    e.kind = kind;
    e.request = request;
    e.body = body;
    e.prev_hash = all.empty() ? "" : all.back().hash;
    e.hash = entry_hash(e);
    Stmt(db_, "INSERT INTO entries (seq, time, kind, request, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)")
        .bind(1, e.seq)
        .bind(2, e.time)
        .bind(3, e.kind)
        .bind(4, e.request)
        .bind(5, e.body.dump())
        .bind(6, e.prev_hash)
        .bind(7, e.hash)
        .step();
    Stmt(db_, "UPDATE head SET value = ? WHERE id = 1").bind(1, head_value(secret_, e.seq, e.hash)).step();
    exec("COMMIT");
    return e;
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

std::vector<std::string> Ledger::verify() const {
  std::vector<std::string> problems;
  const auto v = entries();
  std::map<std::string, int64_t> seq_of_hash;
  for (const auto& e : v) seq_of_hash[e.hash] = e.seq;
  auto name = [](int64_t seq) { return "entry " + std::to_string(seq); };
  for (size_t i = 0; i < v.size(); ++i) {
    const LedgerEntry& e = v[i];
    const int64_t expected_seq = i == 0 ? 1 : v[i - 1].seq + 1;
    if (e.seq > expected_seq)
      problems.push_back(e.seq - 1 > expected_seq
                             ? "entries " + std::to_string(expected_seq) + "-" + std::to_string(e.seq - 1) + " were removed"
                             : name(expected_seq) + " was removed");
    else if (e.seq < expected_seq)
      problems.push_back(name(e.seq) + " is out of sequence");
    if (entry_hash(e) != e.hash) problems.push_back(name(e.seq) + " was edited: its content does not match its hash");
    const std::string want = i == 0 ? "" : v[i - 1].hash;
    if (e.prev_hash == want) continue;
    auto it = seq_of_hash.find(e.prev_hash);
    if (i >= 2 && e.prev_hash == v[i - 2].hash)
      problems.push_back(name(v[i - 1].seq) + " was inserted: " + name(e.seq) + " follows " + name(v[i - 2].seq) +
                         " in the chain");
    else if (it != seq_of_hash.end())
      problems.push_back(name(e.seq) + " is out of order: in the chain it follows " + name(it->second) + ", not " +
                         (i == 0 ? "the start" : name(v[i - 1].seq)));
    else if (e.prev_hash.empty())
      problems.push_back(name(e.seq) + " claims to be the first entry (entries before it were inserted)");
    else
      problems.push_back("the entry " + name(e.seq) + " follows in the chain is missing (removed or edited)");
  }
  // The head: entries cut off the end leave a chain that verifies on its own.
  std::string head;
  {
    Stmt s(db_, "SELECT value FROM head WHERE id = 1");
    if (s.step()) head = s.text(0);
  }
  const int64_t n = v.empty() ? 0 : v.back().seq;
  const std::string last = v.empty() ? "" : v.back().hash;
  if (head != head_value(secret_, n, last)) {
    // "COUNT HASH HMAC": what the head claims, if its HMAC holds.
    std::istringstream in(head);
    std::string count, hash, mac;
    in >> count >> hash >> mac;
    if (mac.empty() && !hash.empty()) std::swap(mac, hash);  // an empty chain's head has no hash
    if (mac != hmac_sha256_hex(secret_, count + " " + hash))
      problems.push_back("the ledger's head record was altered (its HMAC does not match)");
    else if (count != std::to_string(n))
      problems.push_back("the ledger ends at entry " + std::to_string(n) + " but its head records " + count +
                         " entries: the entries after " + std::to_string(n) + " were removed");
    else
      problems.push_back(name(n) + ", the last, differs from the one the head records");
  }
  return problems;
}

}  // namespace medforget
