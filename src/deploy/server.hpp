#pragma once
// `medforget serve`: a deployment's requests, executions, ledger and
// certificates over HTTP and JSON (cpp-httplib), for principals holding a
// bearer token (deploy/tokens.hpp). docs/DEPLOY.md lists the routes, the
// role each needs and the status each refusal gets.
#include <string>

#include "deploy/deployment.hpp"

namespace medforget {

struct ServeOptions {
  std::string host = "127.0.0.1";  // loopback unless the user names another address
  int port = 8750;                 // 0: any free port (printed)
  size_t max_body = 64 * 1024;     // larger bodies get 413
  std::string device = "cpu";      // where executions run
};

// "HOST:PORT" -> host, port; an Error names what is wrong.
void parse_listen(const std::string& listen, ServeOptions& opt);

// Serves until SIGINT or SIGTERM; prints "listening on http://HOST:PORT" once bound.
void serve(const Deployment& d, const ServeOptions& opt);

}  // namespace medforget
