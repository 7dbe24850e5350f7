#include "core/error.hpp"

namespace medforget {

std::string where(const std::string& file, long line, const std::string& field) {
  std::string s = file;
  if (line > 0) s.append(":").append(std::to_string(line));
  if (!field.empty()) s.append(": field '").append(field).append("'");
  return s;
}

void fail(const std::string& msg) { throw Error(msg); }

}  // namespace medforget
