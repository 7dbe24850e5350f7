// MANU, Modality-Aware Neuron Unlearning (MedForget appendix A.1; Liu et al.
// 2025): training-free neuron pruning.
//  1. For the MLP neurons (down_proj's inputs) of the last layers of both
//     towers, per item: the deviation between the image+text pass and the
//     text-only pass (same prompt and answer, no vision block). Language
//     neurons are averaged over text tokens; vision neurons see nothing in the
//     text-only pass, so their deviation is their image-token mean.
//  2. Importance I(D, n) over a set D: the mean of four statistics of the
//     deviation, each scaled by its layer mean on the retain set so none
//     dominates: mean |δ|, frequency of |δ| above a threshold, variance, RMS.
//  3. S_n = I(forget, n) / (I(retain, n) + ε); per layer the top α% neurons
//     are pruned: their gate_proj and up_proj rows (and bias entries) are
//     zeroed, so silu(gate)·up is 0 and the neuron is silent for every input.
// Where we differ from the original: neurons are ranked per layer rather than
// globally (layer scales differ too much on small models for one ranking), and
// activations are per-item token means rather than per-token values.
#include <algorithm>

#include "core/error.hpp"
#include "unlearn/activations.hpp"
#include "unlearn/method.hpp"
#include "model/arch_names.hpp"

namespace medforget {
namespace {

// [4, n_neurons]: mean |δ|, frequency of |δ| > threshold, variance, RMS over rows.
torch::Tensor deviation_stats(const torch::Tensor& dev, double threshold) {
  auto a = dev.abs();
  return torch::stack({a.mean(0), a.gt(threshold).to(torch::kFloat32).mean(0),
                       dev.var(0, /*unbiased=*/false), dev.pow(2).mean(0).sqrt()});
}

class Manu : public Method {
 public:
  std::string name() const override { return "manu"; }
  std::string summary() const override { return "modality-aware neuron pruning (zero the most forget-specific MLP neurons)"; }
  std::vector<MethodOption> options() const override {
    return {{"alpha", 0.02, "fraction of each layer's MLP neurons pruned", above_up_to(0, 1)},
            {"layer_fraction", 0.2, "top fraction of decoder layers pruned", above_up_to(0, 1)},
            {"vision_layer_fraction", 0.2, "top fraction of vision blocks pruned", above_up_to(0, 1)},
            {"freq_threshold", 1.0, "|δ| counts as frequent above this multiple of the layer's mean |δ|", above(0)},
            {"eps", 1e-6, "ε in S = I(forget) / (I(retain) + ε)", above(0)},
            {"cap", 500, "items read from each of the forget and retain sets (0: all)", at_least(0)},
            {"batch_size", 16, "items per forward pass", at_least(1)}};
  }


  Json run(UnlearnContext& ctx, const Json& p) override {
    LoadedModel& m = ctx.model;
    std::vector<std::string> lm, vis;  // MLP prefixes ("model.layers.3.mlp")
    for (int l : top_layers(m.config.num_hidden_layers, p.at("layer_fraction").get<double>()))
      lm.push_back(arch::decoder_mlp(l));
    for (int l : top_layers(m.config.vision_config.depth, p.at("vision_layer_fraction").get<double>()))
      vis.push_back(arch::vision_mlp(l));
    std::vector<std::string> mm_modules, txt_modules;
    for (const auto& s : lm) mm_modules.push_back(s + ".down_proj"), txt_modules.push_back(s + ".down_proj");
    for (const auto& s : vis) mm_modules.push_back(s + ".down_proj");

    const int cap = p.at("cap").get<int>();
    auto forget = sample_items(ctx.request.forget, cap, ctx.seed, "manu:forget");
    auto retain = sample_items(ctx.request.retain, cap, ctx.seed, "manu:retain");
    if (forget.empty() || retain.empty()) fail("manu: need both forget and retain items to score neurons");
    std::vector<const Item*> items = forget;
    items.insert(items.end(), retain.begin(), retain.end());
    ActivationOptions ao;
    ao.alpha = 0;  // language neurons: the text-token mean, comparable across both passes
    ao.site = TapSite::Input;
    ao.batch_size = p.at("batch_size").get<int>();
    auto mm = collect_activations(m, items, ctx.images, mm_modules, ao, ctx.device, "manu image+text");
    ao.text_only = true;
    auto txt = collect_activations(m, items, ctx.images, txt_modules, ao, ctx.device, "manu text only");

    const auto nf = static_cast<int64_t>(forget.size()), nr = static_cast<int64_t>(retain.size());
    const double eps = p.at("eps").get<double>(), alpha = p.at("alpha").get<double>();
    auto params = m.model->named_parameters();
    Json layers = Json::array();
    torch::NoGradGuard ng;
    for (size_t k = 0; k < mm_modules.size(); ++k) {
      auto dev = k < txt_modules.size() ? mm.values[k] - txt.values[k] : mm.values[k];
      auto df = dev.narrow(0, 0, nf), dr = dev.narrow(0, nf, nr);
      const double thr = p.at("freq_threshold").get<double>() * dev.abs().mean().item<double>();
      auto sf = deviation_stats(df, thr), sr = deviation_stats(dr, thr);
      auto scale = sr.mean(1, /*keepdim=*/true).clamp_min(1e-12);  // per statistic, shared by both sets
      auto i_f = (sf / scale).mean(0), i_r = (sr / scale).mean(0);
      auto score = i_f / (i_r + eps);
      const int64_t n = score.size(0);
      const int64_t n_sel = std::max<int64_t>(1, static_cast<int64_t>(std::llround(alpha * static_cast<double>(n))));
      auto sel = std::get<0>(std::get<1>(score.topk(n_sel)).sort());
      const std::string mlp = mm_modules[k].substr(0, mm_modules[k].size() - std::string(".down_proj").size());
      for (const char* proj : {".gate_proj", ".up_proj"}) {
        torch::Tensor& W = params[mlp + proj + ".weight"];
        W.index_fill_(0, sel.to(W.device()), 0.0);
        if (params.contains(mlp + proj + ".bias")) {
          torch::Tensor& B = params[mlp + proj + ".bias"];
          B.index_fill_(0, sel.to(B.device()), 0.0);
        }
      }
      std::vector<int64_t> ids(sel.data_ptr<int64_t>(), sel.data_ptr<int64_t>() + sel.numel());
      layers.push_back({{"mlp", mlp},
                        {"neurons", n},
                        {"pruned", ids},
                        {"top_score", score.index_select(0, sel).min().item<double>()},
                        {"median_score", score.median().item<double>()}});
    }
    return {{"layers", layers}, {"n_forget_items", nf}, {"n_retain_items", nr}};
  }
};

}  // namespace

std::unique_ptr<Method> make_manu() { return std::make_unique<Manu>(); }

}  // namespace medforget
