#include "deploy/tokens.hpp"

#include <openssl/crypto.h>

#include <algorithm>

#include "core/digest.hpp"
#include "core/error.hpp"

namespace medforget {

std::vector<ApiToken> tokens_of(const std::vector<LedgerEntry>& entries) {
  std::vector<ApiToken> v;
  for (const auto& e : entries) {
    if (e.kind == "token_add") {
      ApiToken t;
      t.id = e.body.value("token_id", "");
      t.principal = e.body.value("principal", "");
      t.role = e.body.value("role", "");
      t.hash = e.body.value("token_sha256", "");
      t.created = e.time;
      v.push_back(t);
    } else if (e.kind == "token_revoke") {
      for (auto& t : v)
        if (t.id == e.body.value("token_id", "")) t.revoked = true;
    }
  }
  return v;
}

std::string add_token(const Deployment& d, const std::string& principal, const std::string& role) {
  check_principal(principal, "--principal");
  if (std::find(kRoles.begin(), kRoles.end(), role) == kRoles.end())
    fail("--role '" + role + "': expected submitter, approver or auditor");
  const std::string token = "mft_" + random_hex(24);
  const std::string hash = sha256_hex(token);
  d.ledger().append("token_add", "", {{"token_id", hash.substr(0, 12)}, {"principal", principal}, {"role", role},
                                      {"token_sha256", hash}});
  return token;
}

void revoke_token(const Deployment& d, const std::string& id) {
  d.ledger().append("token_revoke", "", {{"token_id", id}}, [&](const std::vector<LedgerEntry>& all) {
    for (const auto& t : tokens_of(all))
      if (t.id == id) {
        if (t.revoked) fail("token " + id + " is already revoked");
        return;
      }
    fail("token " + id + ": no such token (medforget token list shows them)");
  });
}

std::optional<ApiToken> find_token(const std::vector<ApiToken>& tokens, const std::string& presented) {
  const std::string hash = sha256_hex(presented);
  for (const auto& t : tokens)
    if (t.hash.size() == hash.size() && CRYPTO_memcmp(t.hash.data(), hash.data(), hash.size()) == 0 && !t.revoked)
      return t;
  return std::nullopt;
}

}  // namespace medforget
