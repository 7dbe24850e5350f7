#include "unlearn/gradient_unlearn.hpp"

#include <chrono>
#include <cstdio>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"

namespace medforget {

std::vector<MethodOption> gradient_options() {
  return {{"epochs", 5, "passes over the forget set", option_range("epochs")},
          {"lr", 3e-4, "AdamW learning rate (constant)", option_range("lr")},
          {"batch_size", 8, "forget and retain examples per step (each)", option_range("batch_size")},
          {"grad_clip", 1.0, "gradient norm clip", option_range("grad_clip")},
          {"max_steps", 0, "stop after this many steps (0: epochs decide)", at_least(0)},
          {"adapters_only", true, "a LoRA model (base + adapter): train the adapters only (false: merge them and train all weights)"}};
}

LoadedModel load_frozen(const std::filesystem::path& dir, const UnlearnContext& ctx) {
  LoadedModel m = load_model(dir, ctx.device, ctx.model.dtype);
  if (m.config.vocab_size != ctx.model.config.vocab_size)
    fail(dir.string() + ": vocabulary of " + std::to_string(m.config.vocab_size) + " differs from the model's " +
         std::to_string(ctx.model.config.vocab_size) + "; the models must share a tokenizer");
  for (auto& p : m.model->parameters()) p.set_requires_grad(false);
  m.model->eval();
  return m;
}

namespace {

// An endless seeded stream of batches over a set of examples.
class BatchStream {
 public:
  BatchStream(const std::vector<Example>& data, int batch_size, Rng rng)
      : data_(data), bs_(static_cast<size_t>(batch_size)), rng_(rng) {}
  Batch next(int pad, const torch::Device& dev) {
    std::vector<const Example*> ex;
    while (ex.size() < std::min(bs_, data_.size())) {
      if (pos_ >= order_.size()) reshuffle();
      ex.push_back(&data_[order_[pos_++]]);
    }
    return collate(ex, pad, false, dev);
  }

 private:
  void reshuffle() {
    order_.resize(data_.size());
    for (size_t i = 0; i < order_.size(); ++i) order_[i] = i;
    rng_.shuffle(order_);
    pos_ = 0;
  }
  const std::vector<Example>& data_;
  size_t bs_;
  Rng rng_;
  std::vector<size_t> order_;
  size_t pos_ = 0;
};

// The parameters a run trains, and (when confined) which of their entries.
struct TrainSet {
  std::vector<torch::Tensor> params, masks;
};

TrainSet trainable(torch::nn::Module& model, const std::vector<TrainableEntries>& only) {
  TrainSet t;
  if (only.empty()) {  // everything that trains: all weights, or a LoRA model's adapters
    for (auto& p : model.parameters())
      if (p.requires_grad()) t.params.push_back(p);
    return t;
  }
  auto named = model.named_parameters();
  for (auto& p : named) p.value().set_requires_grad(false);
  for (const auto& e : only) {
    if (!named.contains(e.parameter)) fail("unlearn: no parameter '" + e.parameter + "' to train");
    torch::Tensor& p = named[e.parameter];
    if (!e.mask.sizes().equals(p.sizes())) fail("unlearn: mask shape differs from '" + e.parameter + "'");
    p.set_requires_grad(true);
    t.params.push_back(p);
    t.masks.push_back(e.mask.to(p.device()));
  }
  return t;
}

// Only the trainable entries' gradients count (for the clip norm too). With no
// weight decay, AdamW moves an entry whose gradient was always 0 by exactly 0
// (its moments stay 0), so every other entry stays bit-identical.
void mask_grads(TrainSet& t) {
  for (size_t i = 0; i < t.masks.size(); ++i)
    if (t.params[i].grad().defined()) t.params[i].mutable_grad().mul_(t.masks[i].to(t.params[i].scalar_type()));
}

}  // namespace

Json gradient_unlearn(UnlearnContext& ctx, const Json& params, const std::string& label,
                      const StepObjective& objective, const std::vector<TrainableEntries>& only) {
  LoadedModel& m = ctx.model;
  const int bs = params.at("batch_size").get<int>();
  const int epochs = params.at("epochs").get<int>();
  const double lr = params.at("lr").get<double>();
  auto forget = make_examples(ctx.request.forget, m.tokenizer, m.config, ctx.images);
  auto retain = make_examples(ctx.request.retain, m.tokenizer, m.config, ctx.images);
  int64_t steps = static_cast<int64_t>(epochs) * static_cast<int64_t>((forget.size() + bs - 1) / bs);
  const int64_t max_steps = params.at("max_steps").get<int64_t>();
  if (max_steps > 0) steps = std::min(steps, max_steps);

  Rng rng = Rng(ctx.seed).fork("unlearn:" + label);
  BatchStream fs(forget, bs, rng.fork("forget")), rs(retain, bs, rng.fork("retain"));
  m.model->train();
  TrainSet train = trainable(*m.model, only);
  torch::optim::AdamW optim(train.params, torch::optim::AdamWOptions(lr).weight_decay(0.0));
  Progress prog(label, static_cast<size_t>(steps));
  const auto t0 = std::chrono::steady_clock::now();
  Json last = Json::object();
  const int pad = m.tokenizer.pad_id();
  for (int64_t s = 0; s < steps; ++s) {
    Batch f = fs.next(pad, ctx.device), r = rs.next(pad, ctx.device);
    Json log = Json::object();
    optim.zero_grad();
    torch::Tensor loss = objective(f, r, log);
    if (!std::isfinite(loss.item<double>()))
      fail(label + ": the objective became non-finite at step " + std::to_string(s + 1) + " (lower lr?)");
    loss.backward();
    mask_grads(train);
    torch::nn::utils::clip_grad_norm_(train.params, params.at("grad_clip").get<double>());
    optim.step();
    log["loss"] = loss.item<double>();
    std::string extra;
    for (const auto& [k, v] : log.items()) {
      char b[48];
      std::snprintf(b, sizeof b, "%s%s %.4f", extra.empty() ? "" : " ", k.c_str(), v.get<double>());
      extra += b;
    }
    prog.tick(1, extra);
    last = log;
  }
  prog.done();
  for (auto& p : m.model->parameters()) p.set_requires_grad(true);
  m.model->eval();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {{"steps", steps}, {"seconds", secs}, {"last", last}, {"n_forget_examples", forget.size()}};
}

}  // namespace medforget
