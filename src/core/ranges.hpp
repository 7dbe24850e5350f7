#pragma once
// Every numeric option medforget takes is range-checked here, before any work:
// on the command line, in a method's --opt / run-configuration options, and in
// run configurations' finetune fields. A value outside its range is an error
// naming the option, the range and the value; nothing is silently replaced.
#include <limits>
#include <string>

#include "core/json.hpp"

namespace medforget {

struct Range {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool lo_open = false, hi_open = false;
  bool contains(double v) const;
  std::string text() const;  // "(0, 1]", "an integer >= 1", "> 0"
};

Range at_least(double lo);                    // [lo, inf)
Range above(double lo);                       // (lo, inf)
Range between(double lo, double hi);          // [lo, hi]
Range above_up_to(double lo, double hi);      // (lo, hi]
Range any_value();                            // finite

// The range of a command-line or run-configuration option by its name
// ("epochs", "lr", "batch_size", "warmup", "grad_clip", "checkpoint_every",
// "weight_decay", "vocab_size", "max_new_tokens", "k", ...). Error for a name
// the table does not hold, so a new option cannot go unchecked.
const Range& option_range(const std::string& name);

// Fails with "WHAT: NAME must be RANGE, got V" when v is out of range or not finite.
void check_range(const std::string& what, const std::string& name, double v, const Range& r);
// The same with option_range(name).
void check_option(const std::string& what, const std::string& name, double v);
// A JSON value: must be a number, then as above.
void check_option(const std::string& what, const std::string& name, const Json& v);

}  // namespace medforget
