// The unlearning methods medforget knows. Adding one: write src/unlearn/NAME.cpp
// defining a Method and a make_NAME() factory, declare it below and add its
// line to the table (docs/UNLEARNING.md, "Adding a method").
#include "unlearn/method.hpp"

namespace medforget {

std::unique_ptr<Method> make_chip();
std::unique_ptr<Method> make_graddiff();
std::unique_ptr<Method> make_kl_min();
std::unique_ptr<Method> make_manu();
std::unique_ptr<Method> make_mip_editor();
std::unique_ptr<Method> make_npo();
std::unique_ptr<Method> make_retrain();

const std::vector<MethodInfo>& method_registry() {
  static const std::vector<MethodInfo> r{
      {"chip", make_chip},
      {"graddiff", make_graddiff},
      {"kl_min", make_kl_min},
      {"manu", make_manu},
      {"mip_editor", make_mip_editor},
      {"npo", make_npo},
      {"retrain", make_retrain},
  };
  return r;
}

}  // namespace medforget
