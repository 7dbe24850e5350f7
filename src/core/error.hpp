#pragma once
// The single exception type of medforget. Messages name the file, the
// line/record, the field and what was expected, so the CLI can print them as-is.
#include <stdexcept>
#include <string>

namespace medforget {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// "file:line: field 'x': message" — the shape every data error takes.
std::string where(const std::string& file, long line = 0, const std::string& field = "");

[[noreturn]] void fail(const std::string& msg);

}  // namespace medforget
