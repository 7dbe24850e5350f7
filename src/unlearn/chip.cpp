// CHIP (MedForget §4; ../shared/papers/chip-summary.txt): training-free,
// hierarchy-aware unlearning by sibling-differential orthogonal projection.
//  1. Activations of the chosen Linears (gate/up/down_proj of the top LM
//     layers, merger fc1/fc2) per item, for the nodes of the request level and
//     the level below, forget and retain alike (≤ cap items per node).
//  2. Per Linear, neuron score s_i = mean_forget |a_i| - mean_retain |a_i|;
//     the top k% neurons are selected.
//  3. Per target (per child of a target with children), the direction
//     normalise(μ_node - μ_siblings) on the selected neurons, the siblings being
//     retained nodes of the same level under the target's parent's other
//     retained children (fallback: every retained node of that level). A
//     difference within rounding of zero gives no direction (chip_plan.hpp):
//     a section and the other sections of its study show the merger the same
//     image, so at the section level the merger gets no directions from them.
//  4. Stack a Linear's directions, SVD, keep the smallest rank r whose squared
//     singular values reach τ of the total: Q = top-r right singular vectors.
//  5. W_S ← (I - Q Qᵀ) W_S on the selected rows (and bias entries).
// Per Linear the report also says what share of the forget and retain items'
// activation energy the edit removes (removed_energy), the measure of whether
// a request's memory lies in the directions CHIP finds.
// Ablations (the paper's Table 5): siblings=false, merger=false (language
// layers only), zero_out=true, separate_modalities=false.
// variant=reference computes CHIP as the authors' code (chip/chip.py of
// fengli-wu/MedForget) does where it differs from the steps above: the
// sibling mean pools the siblings' items (a sibling with more items weighs
// more) instead of averaging the siblings' node means; merger neurons are
// scored by the mean over the image's tokens of |a| instead of |mean a|; and
// biases are left as they are (only weight rows are projected). Pad tokens
// stay out of every mean in both variants (the reference's right-padded
// batches count them as text, so there an item's activation depends on its
// batch-mates).
#include <algorithm>
#include <sys/resource.h>

#include <chrono>
#include <map>
#include <numeric>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "unlearn/activations.hpp"
#include "unlearn/chip_dump.hpp"
#include "unlearn/chip_plan.hpp"
#include "unlearn/method.hpp"
#include "model/arch_names.hpp"

namespace medforget {
namespace {

using Clock = std::chrono::steady_clock;
double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

// CPU seconds of the whole process (all threads): steadier than wall time when
// other work shares the machine.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Timed {
  double wall = 0, cpu = 0;
};

// One no-grad forward pass over `items` with no taps: what CHIP's cost is
// compared with (the paper: CHIP costs about one forward pass).
Timed plain_forward_seconds(LoadedModel& m, const std::vector<const Item*>& items, ImageCache& images, int batch_size,
                             const torch::Device& device) {
  torch::NoGradGuard ng;
  m.model->eval();
  m.model->taps().clear();
  const auto t0 = Clock::now();
  const double c0 = cpu_seconds();
  for_each_batch(m, items, images, batch_size, device, /*text_only=*/false,
                 [&](const Batch& b, const torch::Tensor&) { m.model->forward(b.input()); });
  return {seconds(t0, Clock::now()), cpu_seconds() - c0};
}

constexpr const char* kMedforget = "medforget";
constexpr const char* kReference = "reference";

class Chip : public Method {
 public:
  std::string name() const override { return "chip"; }
  std::string summary() const override { return "training-free sibling-differential orthogonal projection"; }
  std::vector<MethodOption> options() const override {
    return {{"k", 0.10, "fraction of each tapped Linear's neurons to edit", above_up_to(0, 1)},
            {"tau", 0.95, "share of squared singular values the projection basis keeps", above_up_to(0, 1)},
            {"alpha", 0.3, "weight of vision-token activations in LM layers", between(0, 1)},
            {"layer_fraction", 0.2, "top fraction of decoder layers edited (paper: 22-27 of 28)", above_up_to(0, 1)},
            {"merger", true, "also edit the merger's fc1/fc2 (false: language layers only, an ablation)"},
            {"siblings", true, "subtract the sibling mean (false: the node mean alone, an ablation)"},
            {"zero_out", false, "zero the selected rows instead of projecting (an ablation)"},
            {"separate_modalities", true, "α-weighted vision/text means (false: one mean, an ablation)"},
            {"cap", 500, "items per node of the request level used for activations (0: all)", at_least(0)},
            {"batch_size", 16, "items per forward pass", at_least(1)},
            {"measure_forward", false, "also time one plain no-grad forward pass over the items read (speed audits)"},
            {"variant", std::string(kMedforget),
             "'medforget' (sibling mean of node means, |mean| merger scores, biases projected) or 'reference' (as the "
             "authors' code: sibling items pooled, mean |a| merger scores, biases untouched)"}};
  }

  void check(const Json& p) const override {
    const std::string v = p.at("variant").get<std::string>();
    if (v != kMedforget && v != kReference)
      fail("method 'chip' option 'variant': expected 'medforget' or 'reference', got '" + v + "'");
  }


  Json run(UnlearnContext& ctx, const Json& p) override {
    const double k = p.at("k").get<double>(), tau = p.at("tau").get<double>(), alpha = p.at("alpha").get<double>();
    LoadedModel& m = ctx.model;
    std::vector<std::string> modules;
    for (int l : top_layers(m.config.num_hidden_layers, p.at("layer_fraction").get<double>()))
      for (const std::string_view proj : arch::kMlpProjections) modules.push_back(arch::decoder_mlp_proj(l, proj));
    if (p.at("merger").get<bool>()) {
      modules.push_back(arch::merger_fc1());
      modules.push_back(arch::merger_fc2());
    }
    ChipPlan plan = plan_items(ctx.request, p.at("cap").get<int>(), ctx.seed);
    ActivationOptions ao;
    ao.alpha = alpha;
    ao.separate_modalities = p.at("separate_modalities").get<bool>();
    ao.batch_size = p.at("batch_size").get<int>();
    const bool reference = p.at("variant").get<std::string>() == kReference;
    ao.vision_abs_means = reference;
    const SiblingMean sibling_mean_of = reference ? SiblingMean::OfItems : SiblingMean::OfNodes;
    // The plain pass is timed first, after a one-batch warm-up that neither
    // timing includes, so both see warm caches.
    Timed plain;
    const bool measure = p.at("measure_forward").get<bool>();
    if (measure) {
      const size_t warm = std::min<size_t>(plan.items.size(), static_cast<size_t>(ao.batch_size));
      plain_forward_seconds(m, {plan.items.begin(), plan.items.begin() + static_cast<std::ptrdiff_t>(warm)}, ctx.images,
                            ao.batch_size, ctx.device);
      plain = plain_forward_seconds(m, plan.items, ctx.images, ao.batch_size, ctx.device);
    }
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    ActivationTable acts = collect_activations(m, plan.items, ctx.images, modules, ao, ctx.device, "chip activations");
    const auto t1 = std::chrono::steady_clock::now();

    std::vector<int64_t> f_rows, r_rows;
    for (size_t i = 0; i < plan.items.size(); ++i)
      (plan.is_forget[i] ? f_rows : r_rows).push_back(static_cast<int64_t>(i));
    if (f_rows.empty() || r_rows.empty()) fail("chip: need both forget and retain items to score neurons");
    auto pairs = chip_contrasts(ctx.request, plan);
    if (pairs.empty()) fail("chip: no target has items to contrast");

    std::vector<bool> one_image;
    for (const auto& [node, sibs] : pairs) one_image.push_back(shows_one_image(plan, node, sibs));
    const bool use_siblings = p.at("siblings").get<bool>();
    auto params = m.model->named_parameters();
    ChipDump dump;
    Json layers = Json::array();
    torch::NoGradGuard ng;
    for (size_t mi = 0; mi < modules.size(); ++mi) {
      const auto& a = acts.values[mi];
      const bool vision_only = arch::in_vision(modules[mi]);
      // The importance statistic: |pooled activation| per item, or (reference,
      // merger) the per-item token mean of |activation|.
      const torch::Tensor mag = reference && vision_only ? acts.abs_values[mi] : a.abs();
      auto score = rows_mean(mag, f_rows) - rows_mean(mag, r_rows);
      const int64_t n = a.size(1);
      const int64_t n_sel = std::max<int64_t>(1, static_cast<int64_t>(std::llround(k * static_cast<double>(n))));
      auto sel = std::get<0>(std::get<1>(score.topk(n_sel)).sort());  // ascending neuron ids
      std::vector<torch::Tensor> dirs;
      for (size_t pi = 0; pi < pairs.size(); ++pi) {
        const auto& [node, sibs] = pairs[pi];
        if (vision_only && use_siblings && one_image[pi]) continue;
        auto d = sibling_direction(a, plan, node, sibs, sel, use_siblings, sibling_mean_of);
        if (d.defined()) dirs.push_back(d);
      }
      torch::Tensor& W = params[modules[mi] + ".weight"];
      // The reference projects weight rows only; its biases keep their values.
      torch::Tensor* B =
          !reference && params.contains(modules[mi] + ".bias") ? &params[modules[mi] + ".bias"] : nullptr;
      auto sel_dev = sel.to(W.device());
      const double norm_before = W.index_select(0, sel_dev).norm().item().toDouble();
      int64_t rank = 0;
      torch::Tensor D, Q;
      if (p.at("zero_out").get<bool>()) {
        W.index_fill_(0, sel_dev, 0.0);
        if (B) B->index_fill_(0, sel_dev, 0.0);
      } else if (!dirs.empty()) {
        D = torch::stack(dirs);  // [n_dirs, n_sel]
        // at::linalg_svd, not torch::linalg::svd: Debian's libtorch 2.6 ships no torch/linalg.h.
        auto svd = at::linalg_svd(D, /*full_matrices=*/false);
        auto s2 = std::get<1>(svd).pow(2);
        auto cum = s2.cumsum(0) / s2.sum();
        rank = std::min<int64_t>(s2.size(0), (cum < tau).sum().item<int64_t>() + 1);
        Q = std::get<2>(svd).narrow(0, 0, rank).transpose(0, 1);  // [n_sel, r]
        auto P = (torch::eye(n_sel) - Q.matmul(Q.transpose(0, 1))).to(W.device(), W.scalar_type());
        W.index_copy_(0, sel_dev, P.matmul(W.index_select(0, sel_dev)));
        if (B) B->index_copy_(0, sel_dev, P.matmul(B->index_select(0, sel_dev).unsqueeze(1)).squeeze(1));
      }
      const double norm_after = W.index_select(0, sel_dev).norm().item().toDouble();
      auto share = removed_share(a, sel, Q, p.at("zero_out").get<bool>());
      auto mean_of = [](const torch::Tensor& v, const std::vector<int64_t>& rows) {
        return rows_mean(v.unsqueeze(1), rows).item().toDouble();
      };
      Json removed = {{"forget_of_selected", mean_of(share.of_selected, f_rows)},
                      {"retain_of_selected", mean_of(share.of_selected, r_rows)},
                      {"forget_of_layer", mean_of(share.of_layer, f_rows)},
                      {"retain_of_layer", mean_of(share.of_layer, r_rows)}};
      layers.push_back({{"module", modules[mi]},    {"neurons", n},          {"selected", n_sel},
                        {"directions", dirs.size()}, {"vanished_directions", pairs.size() - dirs.size()},
                        {"rank", rank},         {"bias_edited", B != nullptr && (rank > 0 || p.at("zero_out").get<bool>())},
                        {"weight_norm_before", norm_before},
                        {"weight_norm_after", norm_after}, {"removed_energy", removed}});
      dump.add(modules[mi], sel, D, Q, score);
    }
    if (!ctx.dump_dir.empty()) dump.write(ctx.dump_dir, layers);
    const auto t2 = std::chrono::steady_clock::now();
    const double chip_cpu = cpu_seconds() - c0;
    Json timing = {{"activation_seconds", seconds(t0, t1)}, {"edit_seconds", seconds(t1, t2)},
                   {"chip_seconds", seconds(t0, t2)}, {"chip_cpu_seconds", chip_cpu}};
    if (measure) {
      timing["plain_forward_seconds"] = plain.wall;
      timing["plain_forward_cpu_seconds"] = plain.cpu;
      timing["chip_over_forward"] = seconds(t0, t2) / plain.wall;
      timing["chip_over_forward_cpu"] = chip_cpu / plain.cpu;
    }
    return {{"variant", reference ? kReference : kMedforget},
            {"timing", timing},
            {"layers", layers},
            {"n_items", plan.items.size()},
            {"n_forget_items", f_rows.size()},
            {"n_retain_items", r_rows.size()},
            {"n_contrasts", pairs.size()}};
  }
};

}  // namespace

std::unique_ptr<Method> make_chip() { return std::make_unique<Chip>(); }

}  // namespace medforget
