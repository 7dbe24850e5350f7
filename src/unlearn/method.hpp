#pragma once
// The interface every unlearning method implements, and the registry that
// names them. A new method is one .cpp file here that defines a Method and one
// line in registry.cpp (docs/UNLEARNING.md, "Adding a method", and
// docs/EXTENDING.md walk through it).
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/ranges.hpp"
#include "model/model_io.hpp"
#include "train/batch.hpp"
#include "unlearn/request.hpp"

namespace medforget {

struct MethodOption {
  std::string name;
  Json default_value;  // its JSON type is the option's type
  std::string help;
  Range range = any_value();  // numeric options: checked by resolve_method_params
};

// What a method works on. The model is edited in place.
struct UnlearnContext {
  LoadedModel& model;
  const ForgetRequest& request;
  std::filesystem::path bench_dir;
  ImageCache& images;
  torch::Device device = torch::kCPU;
  uint64_t seed = 1;
  std::filesystem::path work_dir;  // resumable state of iterative methods
  std::filesystem::path dump_dir;  // empty: no audit dump
};

class Method {
 public:
  virtual ~Method() = default;
  virtual std::string name() const = 0;
  virtual std::string summary() const = 0;
  virtual std::vector<MethodOption> options() const = 0;
  // Checks across options (ranges of single options are in options()), run
  // before any model is loaded.
  virtual void check(const Json& params) const {}
  // Edits ctx.model; `params` holds every option (defaults filled in).
  // Returns method-specific facts for provenance.json (selected neurons,
  // steps run, final losses, ...).
  virtual Json run(UnlearnContext& ctx, const Json& params) = 0;
};

struct MethodInfo {
  std::string name;
  std::function<std::unique_ptr<Method>()> make;
};

const std::vector<MethodInfo>& method_registry();
std::vector<std::string> method_names();
// Error listing the known methods when `name` is not one of them.
std::unique_ptr<Method> make_method(const std::string& name);

// Defaults overridden by "key=value" strings, each value parsed as the
// default's JSON type and checked against the option's range. Errors name the
// method, the key and the valid keys or range.
Json resolve_method_params(const Method& m, const std::vector<std::string>& overrides);
// Same, from a JSON object (a run configuration file).
Json resolve_method_params(const Method& m, const Json& overrides);

}  // namespace medforget
