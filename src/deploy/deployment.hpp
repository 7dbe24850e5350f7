#pragma once
// A deployment: the model a hospital serves, its earlier versions, the policy
// its deletions are verified against, and the ledger of its deletion requests.
//
//   DEPLOY/deployment.json   what it serves: the benchmark (or corpus) its requests resolve against, created
//   DEPLOY/secret            32 random bytes (hex), mode 0600: keys the identifier hashes and the ledger head
//   DEPLOY/policy.json       the verification thresholds
//   DEPLOY/ledger.sqlite     the ledger (deploy/ledger.hpp)
//   DEPLOY/versions/v0001/   the model as deployed at init; later versions beside it
//   DEPLOY/certificates/     one certificate per verified request (JSON and HTML)
// The ledger, not a file, says which version is current (deploy/execute.hpp).
//
// A request names its target in the clear (patient:P0012) only on the way in:
// the ledger keeps HMAC-SHA256(secret, "patient:P0012"), and the target is found
// again at execution by hashing the benchmark's nodes of that level.
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "deploy/ledger.hpp"

namespace medforget {

struct Deployment {
  std::filesystem::path dir;
  Json meta;           // deployment.json
  std::string secret;  // hex
  std::filesystem::path bench() const;
  std::filesystem::path ledger_path() const { return dir / "ledger.sqlite"; }
  Ledger ledger() const;
};

// Makes DEPLOY from a checkpoint and the benchmark it was fine-tuned on. An
// existing path is refused (a deployment is never replaced).
Deployment init_deployment(const std::filesystem::path& model, const std::filesystem::path& bench,
                           const std::filesystem::path& out);
Deployment open_deployment(const std::filesystem::path& dir);

// Why a principal's request was refused; the HTTP API answers with the status
// each names (docs/DEPLOY.md). The message says which rule was broken.
enum class Refusal { Invalid = 400, Forbidden = 403, NotFound = 404, Conflict = 409, Unprocessable = 422 };
class RequestRefused : public Error {
 public:
  RequestRefused(Refusal kind, const std::string& msg) : Error(msg), kind(kind) {}
  Refusal kind;
};
[[noreturn]] void refuse(Refusal kind, const std::string& msg);

// A request as the ledger's entries make it.
struct DeletionRequest {
  std::string id, level, target_key, basis, submitted_by, submitted_at;
  std::string state;  // submitted, approved, rejected, executing, executed, verified, failed
  std::string decided_by, decided_at, reason;
  std::string version;  // the model version that applies it (being made, while executing)
  std::vector<int64_t> entries;  // the ledger entries about it
  Json to_json() const;
};
std::vector<DeletionRequest> requests_of(const std::vector<LedgerEntry>& entries);

// Validation of what a principal types (clear errors, nothing written).
void check_principal(const std::string& who, const std::string& option);
void check_free_text(const std::string& text, const std::string& option, size_t max_bytes);

// "patient:P0012" -> (level, id), checked against the deployment's benchmark.
std::pair<std::string, std::string> parse_target(const Deployment& d, const std::string& target);
std::string target_key(const Deployment& d, const std::string& level, const std::string& id);

// Each returns the request after the change; errors name the rule broken.
DeletionRequest submit_request(const Deployment& d, const std::string& target, const std::string& basis,
                               const std::string& by);
DeletionRequest approve_request(const Deployment& d, const std::string& id, const std::string& by);
DeletionRequest reject_request(const Deployment& d, const std::string& id, const std::string& by,
                               const std::string& reason);
DeletionRequest find_request(const std::vector<LedgerEntry>& entries, const std::string& id);

}  // namespace medforget
