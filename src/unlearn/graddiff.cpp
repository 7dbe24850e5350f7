// GradDiff (Liu et al. 2022; MedForget appendix A.1): gradient ascent on the
// forget set balanced by gradient descent on the retain set,
//   L = -w_f * NLL(forget) + w_r * NLL(retain).
#include "unlearn/gradient_unlearn.hpp"

namespace medforget {
namespace {

class GradDiff : public Method {
 public:
  std::string name() const override { return "graddiff"; }
  std::string summary() const override { return "gradient ascent on forget + descent on retain"; }
  std::vector<MethodOption> options() const override {
    auto o = gradient_options();
    o.push_back({"forget_weight", 1.0, "weight of the (negated) forget NLL", at_least(0)});
    o.push_back({"retain_weight", 1.0, "weight of the retain NLL", at_least(0)});
    return o;
  }
  void check(const Json& p) const override { check_gradient_params(name(), p); }
  Json run(UnlearnContext& ctx, const Json& p) override {
    const double wf = p.at("forget_weight").get<double>(), wr = p.at("retain_weight").get<double>();
    auto& model = ctx.model.model;
    return gradient_unlearn(ctx, p, "graddiff", [&](const Batch& f, const Batch& r, Json& log) {
      auto lf = per_sample_loss(model->forward(f.input()), f).mean();
      auto lr = per_sample_loss(model->forward(r.input()), r).mean();
      log["forget_nll"] = lf.item<double>();
      log["retain_nll"] = lr.item<double>();
      return -wf * lf + wr * lr;
    });
  }
};

}  // namespace

std::unique_ptr<Method> make_graddiff() { return std::make_unique<GradDiff>(); }

}  // namespace medforget
