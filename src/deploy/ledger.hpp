#pragma once
// A deployment's ledger: every deletion request and everything done with it, as
// an append-only chain of entries in an SQLite database (WAL mode, so readers
// never block the writer and a killed writer leaves the last committed entry).
//
// Each entry's hash covers its sequence number, time, kind, request id, body and
// the previous entry's hash, so an entry edited, removed, inserted or moved
// breaks the chain where it happened. The chain's head (count and last hash) is
// kept beside it under an HMAC with the deployment's secret, so cutting entries
// off the end is caught too by anyone who does not hold the secret.
//
// Bodies carry keyed hashes of identifiers, never identifiers, report text,
// answers or images (deploy/deployment.hpp decides what goes in).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/json.hpp"

struct sqlite3;

namespace medforget {

struct LedgerEntry {
  int64_t seq = 0;
  std::string time;     // UTC, ISO 8601
  std::string kind;     // "init", "submit", "approve", "reject", ...
  std::string request;  // the request it concerns, "" for the deployment's own entries
  Json body = Json::object();
  std::string prev_hash, hash;
};

// The hash an entry must carry: SHA-256 over its fields and prev_hash.
std::string entry_hash(const LedgerEntry& e);

class Ledger {
 public:
  // A new ledger at `db` (an error if the file exists); `secret` keys the head's HMAC.
  static Ledger create(const std::filesystem::path& db, const std::string& secret);
  static Ledger open(const std::filesystem::path& db, const std::string& secret);
  ~Ledger();
  Ledger(Ledger&& o) noexcept;
  Ledger& operator=(Ledger&& o) noexcept;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Appends one entry in a write transaction: `check` sees every entry so far
  // (under the write lock, so no other writer can slip in between) and throws
  // to refuse; nothing is written then.
  LedgerEntry append(const std::string& kind, const std::string& request, const Json& body,
                     const std::function<void(const std::vector<LedgerEntry>&)>& check = {});
  std::vector<LedgerEntry> entries() const;

  // What is wrong with the chain, one line per problem naming the entry
  // ("entry 7 was edited: ..."); empty when it verifies.
  std::vector<std::string> verify() const;

 private:
  Ledger(sqlite3* db, std::filesystem::path path, std::string secret);
  std::vector<LedgerEntry> read_entries() const;
  void exec(const std::string& sql) const;
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
  std::string secret_;
};

// HMAC-SHA256 of `data` under `key`, as hex.
std::string hmac_sha256_hex(const std::string& key, const std::string& data);

}  // namespace medforget
