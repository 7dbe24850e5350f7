#pragma once
// Bearer tokens of a deployment's HTTP API, one per principal and role.
//
// A token is shown once, when it is made; the ledger keeps only its SHA-256 (a
// "token_add" entry) and a later "token_revoke", so who could do what, and
// since when, is part of the tamper-evident record.
//   submitter  submits requests
//   approver   approves, rejects and executes requests (not ones it submitted)
//   auditor    reads the ledger, its verification and the certificates
// Every role reads requests and certificates.
#include <optional>
#include <string>
#include <vector>

#include "deploy/deployment.hpp"

namespace medforget {

struct ApiToken {
  std::string id;  // the first 12 hex digits of the token's SHA-256: names it in lists and revocations
  std::string principal, role, created, hash;
  bool revoked = false;
};

inline const std::vector<std::string> kRoles = {"submitter", "approver", "auditor"};

// Returns the token itself ("mft_" and 48 hex digits).
std::string add_token(const Deployment& d, const std::string& principal, const std::string& role);
void revoke_token(const Deployment& d, const std::string& id);
std::vector<ApiToken> tokens_of(const std::vector<LedgerEntry>& entries);
// The live token `presented` stands for, if any.
std::optional<ApiToken> find_token(const std::vector<ApiToken>& tokens, const std::string& presented);

}  // namespace medforget
