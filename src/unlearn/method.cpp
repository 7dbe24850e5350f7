#include "unlearn/method.hpp"

#include <cstdlib>

#include "core/error.hpp"

namespace medforget {

std::vector<std::string> method_names() {
  std::vector<std::string> out;
  for (const auto& m : method_registry()) out.push_back(m.name);
  return out;
}

static std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::unique_ptr<Method> make_method(const std::string& name) {
  for (const auto& m : method_registry())
    if (m.name == name) return m.make();
  fail("unknown unlearning method '" + name + "' (known: " + joined(method_names()) + ")");
}

namespace {

const MethodOption& find_option(const Method& m, const std::vector<MethodOption>& opts, const std::string& key) {
  for (const auto& o : opts)
    if (o.name == key) return o;
  std::vector<std::string> names;
  for (const auto& o : opts) names.push_back(o.name);
  fail("method '" + m.name() + "' has no option '" + key + "' (options: " + joined(names) + ")");
}

Json parse_as(const Method& m, const MethodOption& o, const std::string& text) {
  const std::string what = "method '" + m.name() + "' option '" + o.name + "': ";
  const Json& d = o.default_value;
  if (d.is_boolean()) {
    if (text == "true" || text == "1") return true;
    if (text == "false" || text == "0") return false;
    fail(what + "expected true or false, got '" + text + "'");
  }
  if (d.is_number()) {
    char* end = nullptr;
    errno = 0;
    if (d.is_number_integer()) {
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end || errno) fail(what + "expected an integer, got '" + text + "'");
      return v;
    }
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end || errno) fail(what + "expected a number, got '" + text + "'");
    return v;
  }
  return text;
}

Json check_type(const Method& m, const MethodOption& o, const Json& v) {
  const Json& d = o.default_value;
  bool ok = (d.is_boolean() && v.is_boolean()) || (d.is_number_integer() && v.is_number_integer()) ||
            (d.is_number_float() && v.is_number()) || (d.is_string() && v.is_string());
  if (!ok)
    fail("method '" + m.name() + "' option '" + o.name + "': expected a value like " + d.dump() + ", got " + v.dump());
  return d.is_number_float() ? Json(v.get<double>()) : v;
}

// The one range check of method options, whatever their source.
Json checked(const Method& m, const std::vector<MethodOption>& opts, Json p) {
  for (const auto& o : opts)
    if (o.default_value.is_number())
      check_range("method '" + m.name() + "' option", o.name, p.at(o.name).get<double>(), o.range);
  return p;
}

}  // namespace

Json resolve_method_params(const Method& m, const std::vector<std::string>& overrides) {
  auto opts = m.options();
  Json p = Json::object();
  for (const auto& o : opts) p[o.name] = o.default_value;
  for (const auto& kv : overrides) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      fail("method option '" + kv + "': expected key=value (e.g. lr=1e-4)");
    const MethodOption& o = find_option(m, opts, kv.substr(0, eq));
    p[o.name] = parse_as(m, o, kv.substr(eq + 1));
  }
  return checked(m, opts, p);
}

Json resolve_method_params(const Method& m, const Json& overrides) {
  auto opts = m.options();
  Json p = Json::object();
  for (const auto& o : opts) p[o.name] = o.default_value;
  if (overrides.is_null()) return checked(m, opts, p);
  if (!overrides.is_object()) fail("method '" + m.name() + "' options: expected a JSON object");
  for (const auto& [k, v] : overrides.items()) {
    const MethodOption& o = find_option(m, opts, k);
    p[o.name] = check_type(m, o, v);
  }
  return checked(m, opts, p);
}

}  // namespace medforget
