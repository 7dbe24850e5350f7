#pragma once
// JSON and JSONL I/O on nlohmann::json with errors that name file, line and field.
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace medforget {

using Json = nlohmann::json;

Json read_json(const std::filesystem::path& p);
void write_json(const std::filesystem::path& p, const Json& j);  // atomic, pretty, sorted keys
// Calls fn(json, line_number) for every non-empty line; a parse error names the line.
void for_each_jsonl(const std::filesystem::path& p,
                    const std::function<void(const Json&, long)>& fn);
std::vector<Json> read_jsonl(const std::filesystem::path& p);
void write_jsonl(const std::filesystem::path& p, const std::vector<Json>& rows);  // atomic

// Typed field access: throws Error naming file:line and the field when the
// field is missing or has the wrong type.
struct JsonCtx {
  std::string file;
  long line = 0;
};
std::string get_string(const Json& j, const char* key, const JsonCtx& ctx);
int64_t get_int(const Json& j, const char* key, const JsonCtx& ctx);
double get_number(const Json& j, const char* key, const JsonCtx& ctx);
const Json& get_array(const Json& j, const char* key, const JsonCtx& ctx);
const Json& get_object(const Json& j, const char* key, const JsonCtx& ctx);
std::vector<std::string> get_string_array(const Json& j, const char* key, const JsonCtx& ctx);

}  // namespace medforget
