#pragma once
// Identifiers that become path components (study ids name image files, method
// variant names name stage directories, ...) and relative paths read from input
// files are validated here, in one place, for corpora, benchmarks, run
// configurations and targets alike: an id like "../x" must never write or read
// outside the directory it belongs to.
#include <string>

namespace medforget {

// True for 1-128 characters of [A-Za-z0-9._-], not starting with '.' or '-'.
bool is_path_id(const std::string& id);
// Error "WHERE: KIND id 'ID' ..." naming the rule, unless is_path_id(id).
void check_path_id(const std::string& id, const std::string& kind, const std::string& where);
// A relative path inside its directory: components that are path ids, joined
// by '/'; no "..", no absolute path, no empty component. Error naming `where`.
void check_relative_path(const std::string& rel, const std::string& where);

}  // namespace medforget
