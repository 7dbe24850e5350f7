#include "core/ids.hpp"

#include "core/error.hpp"

namespace medforget {

bool is_path_id(const std::string& id) {
  if (id.empty() || id.size() > 128 || id[0] == '.' || id[0] == '-') return false;
  for (unsigned char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-'))
      return false;
  return true;
}

namespace {

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

void check_path_id(const std::string& id, const std::string& kind, const std::string& where) {
  if (!is_path_id(id))
    fail(where + ": " + kind + " id '" + printable(id) +
         "' cannot name a file: expected 1-128 characters of letters, digits, '.', '_' or '-', not starting with "
         "'.' or '-'");
}

void check_relative_path(const std::string& rel, const std::string& where) {
  if (rel.empty()) fail(where + ": empty path");
  size_t start = 0;
  while (true) {
    const size_t slash = rel.find('/', start);
    const std::string part = rel.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!is_path_id(part))
      fail(where + ": path '" + printable(rel) +
           "' must stay inside its directory (relative, components of letters, digits, '.', '_' or '-'; no '..')");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

}  // namespace medforget
