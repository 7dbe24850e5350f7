#pragma once
// A deployment's verification policy (DEPLOY/policy.json) and one check's
// result; deploy/verify.hpp says what each check measures.
#include <string>

#include "core/json.hpp"

namespace medforget {

struct Policy {
  double forget_drop_min = 0.5;
  double mia_auc_max_distance = 0.1;
  double leakage_max = 0.5;
  double retain_tolerance = 5.0;
  double general_tolerance = 5.0;
  int eval_items = 48;       // items per set and request (evenly spread); 0 = all
  int max_new_tokens = 64;   // generation budget of the checks
  Json to_json() const;
  // An Error names the field and the range it must be in.
  static Policy from_json(const Json& j, const std::string& where);
};

struct Check {
  std::string name;  // forget, mia, leakage:<context>, retain, general
  double value = 0, threshold = 0;
  std::string rule;  // "value >= threshold" or "value <= threshold"
  bool passed = false;
  Json detail = Json::object();  // the numbers the value comes from
  Json to_json() const;
};

}  // namespace medforget
