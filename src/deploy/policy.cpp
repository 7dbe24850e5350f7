#include "deploy/policy.hpp"

#include <cmath>
#include <set>

#include "core/error.hpp"

namespace medforget {

Json Policy::to_json() const {
  return {{"forget_drop_min", forget_drop_min},   {"mia_auc_max_distance", mia_auc_max_distance},
          {"leakage_max", leakage_max},           {"retain_tolerance", retain_tolerance},
          {"general_tolerance", general_tolerance}, {"eval_items", eval_items},
          {"max_new_tokens", max_new_tokens}};
}

Policy Policy::from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) fail(where + ": the policy is not a JSON object");
  const JsonCtx ctx{where, 0};
  static const std::set<std::string> known = {"forget_drop_min",  "mia_auc_max_distance", "leakage_max",
                                              "retain_tolerance", "general_tolerance",    "eval_items",
                                              "max_new_tokens"};
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) fail(where + ": unknown policy field '" + k + "'");
  Policy p;
  auto num = [&](const char* key, double& field, double lo, double hi) {
    if (!j.contains(key)) return;
    const double v = get_number(j, key, ctx);
    if (!(v >= lo && v <= hi))
      fail(where + ": " + key + " is " + Json(v).dump() + "; it must lie in [" + Json(lo).dump() + ", " +
           Json(hi).dump() + "]");
    field = v;
  };
  num("forget_drop_min", p.forget_drop_min, 0, 1);
  num("mia_auc_max_distance", p.mia_auc_max_distance, 0, 0.5);
  num("leakage_max", p.leakage_max, 0, 10);
  num("retain_tolerance", p.retain_tolerance, 0, 100);
  num("general_tolerance", p.general_tolerance, 0, 100);
  double items = p.eval_items, tokens = p.max_new_tokens;
  num("eval_items", items, 0, 100000);
  num("max_new_tokens", tokens, 1, 4096);
  if (items != std::floor(items) || tokens != std::floor(tokens))
    fail(where + ": eval_items and max_new_tokens are whole numbers");
  p.eval_items = static_cast<int>(items);
  p.max_new_tokens = static_cast<int>(tokens);
  return p;
}

Json Check::to_json() const {
  auto num = [](double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); };
  return {{"name", name}, {"value", num(value)}, {"threshold", threshold}, {"rule", rule},
          {"passed", passed}, {"detail", detail}};
}

}  // namespace medforget
