#pragma once
// A request's certificate: everything an auditor needs to judge one deletion,
// built from the ledger alone, so that it can be made again at any time and
// compared with a copy handed out earlier. It names the request (hashed
// target, basis, principals, times), the model digests before and after, the
// method and its options, every check with its value and threshold, the
// verdict, and the hash of the ledger entry that records the verdict.
#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "deploy/deployment.hpp"

namespace medforget {

// An Error when the request has no verdict yet.
Json certificate_json(const Deployment& d, const std::vector<LedgerEntry>& entries, const std::string& request);
// A printable, self-contained page (no scripts, no external resources).
std::string certificate_html(const Json& certificate);
// DEPLOY/certificates/<id>.json and .html.
void write_certificate(const Deployment& d, const std::vector<LedgerEntry>& entries, const std::string& request);

}  // namespace medforget
