#include "core/ranges.hpp"

#include <cmath>
#include <cstdio>
#include <map>

#include "core/error.hpp"

namespace medforget {

namespace {

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", v);
  return b;
}

}  // namespace

bool Range::contains(double v) const {
  if (!std::isfinite(v)) return false;
  if (lo_open ? !(v > lo) : !(v >= lo)) return false;
  if (hi_open ? !(v < hi) : !(v <= hi)) return false;
  return true;
}

std::string Range::text() const {
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  if (has_lo && has_hi)
    return std::string("in ") + (lo_open ? "(" : "[") + num(lo) + ", " + num(hi) + (hi_open ? ")" : "]");
  if (has_lo) return (lo_open ? "> " : ">= ") + num(lo);
  if (has_hi) return (hi_open ? "< " : "<= ") + num(hi);
  return "finite";
}

Range at_least(double lo) { return Range{lo, std::numeric_limits<double>::infinity(), false, false}; }
Range above(double lo) { return Range{lo, std::numeric_limits<double>::infinity(), true, false}; }
Range between(double lo, double hi) { return Range{lo, hi, false, false}; }
Range above_up_to(double lo, double hi) { return Range{lo, hi, true, false}; }
Range any_value() { return Range{}; }

const Range& option_range(const std::string& name) {
  // One row per option name; a method's own options carry their ranges in its
  // option table (unlearn/method.hpp) and are checked by check_range too.
  static const std::map<std::string, Range> table = {
      {"epochs", at_least(1)},
      {"batch_size", at_least(1)},
      {"lr", above(0)},
      {"weight_decay", at_least(0)},
      {"warmup", Range{0, 1, false, true}},  // a fraction of all steps
      {"grad_clip", above(0)},                // clip_grad_norm_ with a bound <= 0 scales gradients wrongly
      {"checkpoint_every", at_least(0)},      // 0: only at epoch ends
      {"stop_after", at_least(0)},
      {"vocab_size", at_least(256)},
      {"max_new_tokens", at_least(1)},
      {"limit", at_least(0)},                 // 0: every item
      {"eval_limit", at_least(0)},
      {"k", above_up_to(0, 1)},               // Min-K% fraction
      {"image_size", at_least(0)},            // 0: the preset's
      {"jobs", at_least(1)},
      {"patients_per_institution", at_least(1)},
      {"studies_per_patient", at_least(1)},
  };
  auto it = table.find(name);
  if (it == table.end()) fail("internal: no range for the numeric option '" + name + "'");
  return it->second;
}

void check_range(const std::string& what, const std::string& name, double v, const Range& r) {
  if (!r.contains(v)) fail(what + ": " + name + " must be " + r.text() + ", got " + num(v));
}

void check_option(const std::string& what, const std::string& name, double v) {
  check_range(what, name, v, option_range(name));
}

void check_option(const std::string& what, const std::string& name, const Json& v) {
  if (!v.is_number()) fail(what + ": " + name + " must be a number, got " + v.dump());
  check_option(what, name, v.get<double>());
}

}  // namespace medforget
