// MIP-Editor (Li et al., AAAI 2026; ../shared/papers/mip-editor-summary.txt):
// influential neuron paths, pruned, then re-trained with representation
// misdirection.
//  1. Localisation on the forget set. The MLP neurons (down_proj's inputs) of
//     every decoder layer and every vision block are scaled together by
//     α = 1/m … 1 (m steps; all layers at once, so each neuron's gradient
//     carries the cascade through the layers above it). Text branch (IGI):
//     |Σ_tokens a · mean_α ∂F/∂(αa)| over text tokens, F the answers'
//     log-likelihood. Visual branch (IFI): Σ_tokens |a| · mean_α (∂F/∂(αa))²,
//     the diagonal Fisher. Both averaged over items.
//  2. The path: the top-k neurons of each layer, layer by layer (greedy).
//  3. Prune: the path neurons' up_proj rows are zeroed (silent for every
//     input).
//  4. Edit: only the path neurons' weights (gate_proj and up_proj rows,
//     down_proj columns) are trained, everything else frozen, on
//     α_f·mean‖h_ℓ(x_f) − c·u‖² + β_r·mean‖h_ℓ(x_r) − h_ℓ^frozen(x_r)‖², h_ℓ the
//     hidden state ~20% deep, u a fixed seeded random unit vector.
// Where we differ from the public code: pruning zeroes up_proj rows only, not
// gate_proj as well, because with both zero every gradient of the neuron is 0
// (silu(0)·0) and step 4 could never move it; the Fisher and gradient scores
// are integrated along one joint path of all layers as the paper's equations
// say, not per layer; the path keeps k neurons per layer, not one.
#include <cmath>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "unlearn/activations.hpp"
#include "unlearn/gradient_unlearn.hpp"
#include "model/arch_names.hpp"

namespace medforget {
namespace {

struct Scored {
  std::vector<std::string> mlps;      // "model.layers.3.mlp", "visual.blocks.1.mlp"
  std::vector<torch::Tensor> scores;  // per MLP: [intermediate] on CPU
};

// Integrated gradient (language) / Fisher (vision) attribution of every MLP
// neuron to the forget answers' log-likelihood.
Scored attribute(LoadedModel& m, const std::vector<const Item*>& items, ImageCache& images, int steps, int batch_size,
                 const torch::Device& device) {
  Scored s;
  for (int l = 0; l < m.config.num_hidden_layers; ++l) s.mlps.push_back(arch::decoder_mlp(l));
  for (int l = 0; l < m.config.vision_config.depth; ++l) s.mlps.push_back(arch::vision_mlp(l));
  const size_t n = s.mlps.size();
  std::vector<torch::Tensor> acc(n);
  std::vector<torch::Tensor> scaled(n), raw(n), text_mask(n);
  std::vector<TapContext> seen(n);  // vision rows of the last pass, for the per-item sums
  Taps& taps = m.model->taps();
  double alpha = 1;
  taps.clear();
  for (size_t k = 0; k < n; ++k) {
    taps.add(s.mlps[k] + ".down_proj", TapSite::Input, [&, k](const torch::Tensor& x, const TapContext& ctx) {
      raw[k] = x.detach();
      text_mask[k] = ctx.in_vision ? torch::Tensor() : ctx.token_mask.logical_and(ctx.vision_mask.logical_not());
      if (ctx.in_vision) seen[k] = ctx;
      scaled[k] = x * alpha;
      scaled[k].retain_grad();
      return scaled[k];
    });
  }
  m.model->eval();
  Progress prog("mip_editor attribution", items.size() * static_cast<size_t>(steps));
  try {
    for_each_batch(m, items, images, batch_size, device, /*text_only=*/false,
                   [&](const Batch& b, const torch::Tensor& rows) {
      for (int st = 1; st <= steps; ++st) {
        alpha = static_cast<double>(st) / steps;
        m.model->zero_grad();
        auto loglik = -per_sample_loss(m.model->forward(b.input()), b).sum();
        loglik.backward();
        torch::NoGradGuard ng;
        for (size_t k = 0; k < n; ++k) {
          if (!scaled[k].defined() || !scaled[k].grad().defined()) fail("mip_editor: no gradient reached " + s.mlps[k]);
          auto g = scaled[k].grad().to(torch::kFloat32), a = raw[k].to(torch::kFloat32);
          torch::Tensor per_item;
          if (text_mask[k].defined()) {  // IGI: a · ∂F/∂(αa) over text tokens, signed, summed per item
            auto tm = text_mask[k].to(torch::kFloat32).unsqueeze(-1);
            per_item = (a * g * tm).sum(1);
          } else {  // IFI: |a| · (∂F/∂(αa))² over the image's patches
            per_item = per_sample_sum(a.abs() * g.pow(2), seen[k]);
          }
          auto part = per_item / steps;  // [B, I]: the mean over α builds up across the steps
          if (!acc[k].defined()) acc[k] = torch::zeros({static_cast<int64_t>(items.size()), part.size(1)});
          acc[k].index_add_(0, rows, part.to(torch::kCPU));
        }
        prog.tick(b.sample_ids.size());
      }
    });
  } catch (...) {
    taps.clear();
    m.model->zero_grad();
    throw;
  }
  taps.clear();
  m.model->zero_grad();
  prog.done();
  for (size_t k = 0; k < n; ++k) s.scores.push_back(acc[k].abs().mean(0));
  return s;
}

class MipEditor : public Method {
 public:
  std::string name() const override { return "mip_editor"; }
  std::string summary() const override {
    return "influential neuron paths (integrated gradient / Fisher), pruned, then representation misdirection";
  }
  std::vector<MethodOption> options() const override {
    auto o = gradient_options();
    for (auto& opt : o) {
      if (opt.name == "lr") opt.default_value = 1e-2;
      if (opt.name == "epochs") opt.default_value = 5;
    }
    o.push_back({"top_k", 5, "path neurons per MLP layer (both towers)", at_least(1)});
    o.push_back({"ig_steps", 4, "m: Riemann steps of the integrated attribution", at_least(1)});
    o.push_back({"layer_depth", 0.2, "depth of the misdirected hidden state, as a fraction of the decoder", above_up_to(0, 1)});
    o.push_back({"steer", 10.0, "c: forget hidden states are pulled to c·u", above(0)});
    o.push_back({"forget_weight", 0.5, "α: weight of the forget misdirection term", at_least(0)});
    o.push_back({"retain_weight", 0.5, "β: weight of the retain preservation term", at_least(0)});
    o.push_back({"cap", 200, "forget items read for the attribution (0: all)", at_least(0)});
    o.push_back({"prune", true, "zero the path neurons before editing (false: edit only, an ablation)"});
    return o;
  }

  Json run(UnlearnContext& ctx, const Json& p) override {
    LoadedModel& m = ctx.model;
    auto items = sample_items(ctx.request.forget, p.at("cap").get<int>(), ctx.seed, "mip_editor:attribution");
    if (items.empty()) fail("mip_editor: the forget set is empty");
    Scored sc = attribute(m, items, ctx.images, p.at("ig_steps").get<int>(), p.at("batch_size").get<int>(), ctx.device);

    auto named = m.model->named_parameters();
    std::vector<TrainableEntries> only;
    Json path = Json::array();
    const int64_t k = p.at("top_k").get<int>();
    for (size_t i = 0; i < sc.mlps.size(); ++i) {
      const auto& mlp = sc.mlps[i];
      auto sel = std::get<0>(std::get<1>(sc.scores[i].topk(std::min<int64_t>(k, sc.scores[i].size(0)))).sort());
      if (p.at("prune").get<bool>()) {
        torch::NoGradGuard ng;
        named[mlp + ".up_proj.weight"].index_fill_(0, sel.to(ctx.device), 0.0);
        if (named.contains(mlp + ".up_proj.bias")) named[mlp + ".up_proj.bias"].index_fill_(0, sel.to(ctx.device), 0.0);
      }
      for (const char* proj : {".gate_proj", ".up_proj", ".down_proj"}) {
        const bool columns = std::string(proj) == ".down_proj";
        for (const char* kind : {".weight", ".bias"}) {
          const std::string name = mlp + proj + kind;
          if (!named.contains(name) || (columns && std::string(kind) == ".bias")) continue;
          const auto& w = named[name];
          auto mask = torch::zeros(w.sizes(), torch::kBool);
          mask.index_fill_(columns ? 1 : 0, sel, true);
          only.push_back({name, mask});
        }
      }
      std::vector<int64_t> ids(sel.data_ptr<int64_t>(), sel.data_ptr<int64_t>() + sel.numel());
      path.push_back({{"mlp", mlp}, {"neurons", ids}, {"score_max", sc.scores[i].max().item<double>()}});
    }

    const int layer = std::max(1, static_cast<int>(std::lround(p.at("layer_depth").get<double>() *
                                                               m.config.num_hidden_layers)));
    const double c = p.at("steer").get<double>(), wf = p.at("forget_weight").get<double>(),
                 wr = p.at("retain_weight").get<double>();
    Rng rng = Rng(ctx.seed).fork("mip_editor:direction");
    std::vector<float> uv(static_cast<size_t>(m.config.hidden_size));
    for (auto& v : uv) v = static_cast<float>(rng.normal());
    auto u = torch::tensor(uv);
    u = (u / u.norm()).to(ctx.device);
    LoadedModel frozen = load_frozen(m.dir, ctx);
    auto& model = m.model;
    auto token_mse = [](const torch::Tensor& h, const torch::Tensor& target, const torch::Tensor& mask) {
      auto mm = mask.to(h.dtype()).unsqueeze(-1);
      return ((h - target).pow(2) * mm).sum() / (mm.sum() * h.size(-1)).clamp_min(1);
    };
    Json report = gradient_unlearn(
        ctx, p, "mip_editor",
        [&](const Batch& f, const Batch& r, Json& log) {
          auto hf = model->hidden_states(f.input())[static_cast<size_t>(layer)];
          auto hr = model->hidden_states(r.input())[static_cast<size_t>(layer)];
          torch::Tensor hr0;
          {
            torch::NoGradGuard ng;
            hr0 = frozen.model->hidden_states(r.input())[static_cast<size_t>(layer)];
          }
          auto lf = token_mse(hf, (c * u).view({1, 1, -1}).to(hf.dtype()), f.attention_mask);
          auto lr = token_mse(hr, hr0, r.attention_mask);
          log["forget_misdirection"] = lf.item<double>();
          log["retain_drift"] = lr.item<double>();
          return wf * lf + wr * lr;
        },
        only);
    report["path"] = path;
    report["hidden_state_layer"] = layer;
    report["n_attribution_items"] = items.size();
    return report;
  }
};

}  // namespace

std::unique_ptr<Method> make_mip_editor() { return std::make_unique<MipEditor>(); }

}  // namespace medforget
