// KL-Min (Maini et al. 2024; MedForget appendix A.1): maximise the forget NLL
// while keeping the next-token distributions on retain answers close to the
// original model's,
//   L = -NLL(forget) + w * KL(p_original || p_current) on retain answer tokens.
#include "unlearn/gradient_unlearn.hpp"

namespace medforget {
namespace {

// Mean over answer positions of KL(p || q), both given as logits [B, T, V].
torch::Tensor answer_kl(const torch::Tensor& logits_p, const torch::Tensor& logits_q, const Batch& b) {
  const int64_t T = logits_p.size(1) - 1;
  auto lp = torch::log_softmax(logits_p.narrow(1, 0, T).to(torch::kFloat32), -1);
  auto lq = torch::log_softmax(logits_q.narrow(1, 0, T).to(torch::kFloat32), -1);
  auto kl = (lp.exp() * (lp - lq)).sum(-1);  // [B, T]
  auto mask = b.loss_mask.narrow(1, 1, T).to(kl.dtype());
  return (kl * mask).sum() / mask.sum().clamp_min(1);
}

class KlMin : public Method {
 public:
  std::string name() const override { return "kl_min"; }
  std::string summary() const override { return "gradient ascent on forget + KL to the original model on retain"; }
  std::vector<MethodOption> options() const override {
    auto o = gradient_options();
    o.push_back({"kl_weight", 1.0, "weight of the retain KL term", at_least(0)});
    return o;
  }
  void check(const Json& p) const override { check_gradient_params(name(), p); }
  Json run(UnlearnContext& ctx, const Json& p) override {
    LoadedModel orig = load_frozen(ctx.model.dir, ctx);
    const double w = p.at("kl_weight").get<double>();
    auto& model = ctx.model.model;
    return gradient_unlearn(ctx, p, "kl_min", [&](const Batch& f, const Batch& r, Json& log) {
      auto lf = per_sample_loss(model->forward(f.input()), f).mean();
      torch::Tensor ref;
      {
        torch::NoGradGuard ng;
        ref = orig.model->forward(r.input());
      }
      auto kl = answer_kl(ref, model->forward(r.input()), r);
      log["forget_nll"] = lf.item<double>();
      log["retain_kl"] = kl.item<double>();
      return -lf + w * kl;
    });
  }
};

}  // namespace

std::unique_ptr<Method> make_kl_min() { return std::make_unique<KlMin>(); }

}  // namespace medforget
