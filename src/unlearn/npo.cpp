// NPO (Zhang et al. 2024; MedForget appendix A.1):
//   L = (2/β) E_forget log(1 + (π_θ(y|x) / π_ref(y|x))^β)
//     = (2/β) E_forget softplus(β (log π_θ(y|x) - log π_ref(y|x)))
// with sequence log-likelihoods of the answers. The paper's reference policy
// is the retain-only model (`medforget unlearn --method retrain`); the vanilla
// model is the alternative (reference=vanilla). retain_weight > 0 adds the
// retain NLL (the NPO+RT variant); the paper's objective has none.
#include "core/error.hpp"
#include "model/checkpoint.hpp"
#include "unlearn/gradient_unlearn.hpp"

namespace medforget {
namespace {

torch::Tensor sequence_logprob(const torch::Tensor& logits, const Batch& b) {
  return answer_token_logprobs(logits, b).sum(1);
}

class Npo : public Method {
 public:
  std::string name() const override { return "npo"; }
  std::string summary() const override { return "negative preference optimisation against a reference policy"; }
  std::vector<MethodOption> options() const override {
    auto o = gradient_options();
    o.push_back({"beta", 0.9, "inverse temperature β", above(0)});
    o.push_back({"reference", std::string(""),
                 "reference policy: a retain-only checkpoint directory (the paper's choice) or 'vanilla'"});
    o.push_back({"retain_weight", 0.0, "weight of an added retain NLL (0: the paper's pure NPO)", at_least(0)});
    return o;
  }
  void check(const Json& p) const override { check_gradient_params(name(), p); }
  Json run(UnlearnContext& ctx, const Json& p) override {
    const std::string ref_name = p.at("reference").get<std::string>();
    if (ref_name.empty())
      fail("npo: option 'reference' is required: the retain-only model (make one with `medforget unlearn "
           "--method retrain`, then --opt reference=DIR) or reference=vanilla");
    const std::filesystem::path ref_dir = ref_name == "vanilla" ? ctx.model.dir : std::filesystem::path(ref_name);
    LoadedModel ref = load_frozen(ref_dir, ctx);
    const double beta = p.at("beta").get<double>(), wr = p.at("retain_weight").get<double>();
    if (!(beta > 0)) fail("npo: beta must be positive");
    auto& model = ctx.model.model;
    Json out = gradient_unlearn(ctx, p, "npo", [&](const Batch& f, const Batch& r, Json& log) {
      torch::Tensor ref_lp;
      {
        torch::NoGradGuard ng;
        ref_lp = sequence_logprob(ref.model->forward(f.input()), f);
      }
      auto lp = sequence_logprob(model->forward(f.input()), f);
      auto loss = (2.0 / beta) * torch::softplus(beta * (lp - ref_lp)).mean();
      log["npo"] = loss.item<double>();
      if (wr > 0) {
        auto lr = per_sample_loss(model->forward(r.input()), r).mean();
        log["retain_nll"] = lr.item<double>();
        loss = loss + wr * lr;
      }
      return loss;
    });
    out["reference"] = std::filesystem::absolute(ref_dir).string();
    out["reference_digest"] = read_checkpoint_manifest(ref_dir).at("content_digest");
    return out;
  }
};

}  // namespace

std::unique_ptr<Method> make_npo() { return std::make_unique<Npo>(); }

}  // namespace medforget
