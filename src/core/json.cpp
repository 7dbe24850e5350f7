#include "core/json.hpp"

#include <sstream>

#include "core/error.hpp"
#include "core/fs.hpp"

namespace medforget {

Json read_json(const std::filesystem::path& p) {
  std::string text = read_text(p);
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
    fail(p.string() + ": malformed JSON (" + e.what() + ")");
  }
}

void write_json(const std::filesystem::path& p, const Json& j) {
  write_atomic(p, j.dump(2) + "\n");
}

void for_each_jsonl(const std::filesystem::path& p,
                    const std::function<void(const Json&, long)>& fn) {
  std::istringstream in(read_text(p));
  std::string line;
  long n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    Json j;
    try {
      j = Json::parse(line);
    } catch (const Json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
      fail(where(p.string(), n) + ": malformed JSON line (" + e.what() + ")");
    }
    if (!j.is_object()) fail(where(p.string(), n) + ": expected a JSON object per line");
    fn(j, n);
  }
}

std::vector<Json> read_jsonl(const std::filesystem::path& p) {
  std::vector<Json> rows;
  for_each_jsonl(p, [&](const Json& j, long) { rows.push_back(j); });
  return rows;
}

void write_jsonl(const std::filesystem::path& p, const std::vector<Json>& rows) {
  std::string out;
  for (const auto& r : rows) {
    out += r.dump();
    out += '\n';
  }
  write_atomic(p, out);
}

static const Json& field(const Json& j, const char* key, const JsonCtx& ctx) {
  if (!j.is_object()) fail(where(ctx.file, ctx.line) + ": expected a JSON object");
  auto it = j.find(key);
  if (it == j.end()) fail(where(ctx.file, ctx.line, key) + ": missing");
  return *it;
}

std::string get_string(const Json& j, const char* key, const JsonCtx& ctx) {
  const Json& v = field(j, key, ctx);
  if (!v.is_string()) fail(where(ctx.file, ctx.line, key) + ": expected a string, got " + v.dump());
  return v.get<std::string>();
}

int64_t get_int(const Json& j, const char* key, const JsonCtx& ctx) {
  const Json& v = field(j, key, ctx);
  if (!v.is_number_integer())
    fail(where(ctx.file, ctx.line, key) + ": expected an integer, got " + v.dump());
  return v.get<int64_t>();
}

double get_number(const Json& j, const char* key, const JsonCtx& ctx) {
  const Json& v = field(j, key, ctx);
  if (!v.is_number()) fail(where(ctx.file, ctx.line, key) + ": expected a number, got " + v.dump());
  return v.get<double>();
}

const Json& get_array(const Json& j, const char* key, const JsonCtx& ctx) {
  const Json& v = field(j, key, ctx);
  if (!v.is_array()) fail(where(ctx.file, ctx.line, key) + ": expected an array");
  return v;
}

const Json& get_object(const Json& j, const char* key, const JsonCtx& ctx) {
  const Json& v = field(j, key, ctx);
  if (!v.is_object()) fail(where(ctx.file, ctx.line, key) + ": expected an object");
  return v;
}

std::vector<std::string> get_string_array(const Json& j, const char* key, const JsonCtx& ctx) {
  std::vector<std::string> out;
  for (const auto& v : get_array(j, key, ctx)) {
    if (!v.is_string()) fail(where(ctx.file, ctx.line, key) + ": expected an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace medforget
