#include "unlearn/gradient_unlearn.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "data/item.hpp"
#include "core/rng.hpp"

namespace medforget {

std::vector<MethodOption> gradient_options() {
  return {{"epochs", 5, "passes over the forget set", option_range("epochs")},
          {"lr", 3e-4, "AdamW learning rate (constant)", option_range("lr")},
          {"batch_size", 8, "forget and retain examples per step (each)", option_range("batch_size")},
          {"grad_clip", 1.0, "gradient norm clip", option_range("grad_clip")},
          {"max_steps", 0, "stop after this many steps (0: epochs decide)", at_least(0)},
          {"adapters_only", true, "a LoRA model (base + adapter): train the adapters only (false: merge them and train all weights)"},
          {"stop", std::string("epochs"),
           "when training ends: 'epochs' (after `epochs` passes) or 'calibrated' (once the forget set's answer NLL "
           "reaches that of held-out items of the same tasks, at most `max_epochs` passes)"},
          {"calibration_items", 64, "calibrated: held-out items, and forget items, scored for the target and each check",
           between(1, 100000)},
          {"check_every", 0, "calibrated: steps between checks of the forget NLL (0: four checks an epoch)", at_least(0)},
          {"max_epochs", 10, "calibrated: passes over the forget set at most", option_range("epochs")}};
}

void check_gradient_params(const std::string& method, const Json& params) {
  const std::string stop = params.at("stop").get<std::string>();
  if (stop != "epochs" && stop != "calibrated")
    fail("method '" + method + "' option 'stop': expected 'epochs' or 'calibrated', got '" + stop + "'");
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

// Up to n of `items`, the tasks taking turns; each task's share is spread
// evenly over its list, so every study of the set is represented.
std::vector<Item> spread_by_task(const std::vector<Item>& items, size_t n) {
  std::map<std::string, std::vector<const Item*>> by_task;
  for (const auto& it : items) by_task[it.task].push_back(&it);
  std::map<std::string, size_t> quota;
  for (size_t left = std::min(n, items.size()); left > 0;)
    for (const auto& [task, list] : by_task)
      if (left > 0 && quota[task] < list.size()) ++quota[task], --left;
  std::vector<Item> out;
  for (const auto& [task, list] : by_task)
    for (size_t i = 0; i < quota[task]; ++i) out.push_back(*list[i * list.size() / quota[task]]);
  return out;
}

// Each example's mean answer-token NLL (pad and prompt excluded), batched,
// without gradients, in eval mode; the model's mode is restored.
std::vector<double> answer_nll(MultimodalModel& model, const std::vector<Example>& ex, int bs, int pad,
                               const torch::Device& dev) {
  torch::NoGradGuard ng;
  const bool training = model->is_training();
  model->eval();
  std::vector<double> out;
  for (size_t i = 0; i < ex.size(); i += static_cast<size_t>(bs)) {
    std::vector<const Example*> b;
    for (size_t j = i; j < std::min(ex.size(), i + static_cast<size_t>(bs)); ++j) b.push_back(&ex[j]);
    Batch batch = collate(b, pad, false, dev);
    auto l = per_sample_loss(model->forward(batch.input()), batch).to(torch::kFloat64).cpu().contiguous();
    out.insert(out.end(), l.data_ptr<double>(), l.data_ptr<double>() + l.numel());
  }
  if (training) model->train();
  return out;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

// Calibrated stopping: the held-out target and the forget items each check scores.
struct Calibration {
  std::vector<Example> forget;
  double target = 0;
  Json report;
};

// The held-out items are general.jsonl's: the same generation, cloze and
// classification tasks on report sections, from institutions, patients and
// images that fine-tuning never saw, asked with the fine-tuning templates.
// Only the tasks both sets have count (the forget set's identity items have no
// held-out counterpart), and the target weights each task's held-out mean by
// its share of the forget items scored, so a task mix that differs between the
// two sets does not move the target.
Calibration calibrate(UnlearnContext& ctx, const Json& params, int bs) {
  const size_t n = params.at("calibration_items").get<size_t>();
  const auto path = ctx.bench_dir / "general.jsonl";
  if (!std::filesystem::exists(path))
    fail(path.string() + ": missing; stop=calibrated scores the held-out items in it (rebuild the benchmark)");
  const auto held_all = read_items(path);
  std::set<std::string> held_tasks;
  for (const auto& it : held_all) held_tasks.insert(it.task);
  std::vector<Item> forget_pool;
  for (const auto& it : ctx.request.forget)
    if (held_tasks.contains(it.task)) forget_pool.push_back(it);
  if (forget_pool.empty())
    fail("stop=calibrated: no forget item has a task that " + path.string() + " holds");
  const auto forget_items = spread_by_task(forget_pool, n);
  std::map<std::string, double> share;
  for (const auto& it : forget_items) share[it.task] += 1.0 / static_cast<double>(forget_items.size());
  std::vector<Item> held_pool;
  for (const auto& it : held_all)
    if (share.contains(it.task)) held_pool.push_back(it);
  const auto held = spread_by_task(held_pool, n);

  LoadedModel& m = ctx.model;
  const int pad = m.tokenizer.pad_id();
  auto held_ex = make_examples(held, m.tokenizer, m.config, ctx.images);
  const auto nll = answer_nll(m.model, held_ex, bs, pad, ctx.device);
  std::map<std::string, std::vector<double>> by_task;
  for (size_t i = 0; i < held.size(); ++i) by_task[held[i].task].push_back(nll[i]);
  Calibration c;
  Json per_task = Json::object(), shares = Json::object();
  for (const auto& [task, w] : share) {
    const double mu = mean_of(by_task[task]);
    c.target += w * mu;
    per_task[task] = mu;
    shares[task] = w;
  }
  c.forget = make_examples(forget_items, m.tokenizer, m.config, ctx.images);
  c.report = {{"heldout_set", "general.jsonl"},
              {"n_heldout", held.size()},
              {"n_forget_scored", forget_items.size()},
              {"heldout_nll_by_task", per_task},
              {"forget_task_share", shares},
              {"target_nll", c.target}};
  return c;
}

}  // namespace

Json gradient_unlearn(UnlearnContext& ctx, const Json& params, const std::string& label,
                      const StepObjective& objective, const std::vector<TrainableEntries>& only) {
  check_gradient_params(label, params);
  LoadedModel& m = ctx.model;
  const int bs = params.at("batch_size").get<int>();
  const bool calibrated = params.at("stop").get<std::string>() == "calibrated";
  const int epochs = params.at(calibrated ? "max_epochs" : "epochs").get<int>();
  const double lr = params.at("lr").get<double>();
  auto forget = make_examples(ctx.request.forget, m.tokenizer, m.config, ctx.images);
  auto retain = make_examples(ctx.request.retain, m.tokenizer, m.config, ctx.images);
  const int64_t per_epoch = static_cast<int64_t>((forget.size() + bs - 1) / bs);
  int64_t steps = static_cast<int64_t>(epochs) * per_epoch;
  const int64_t max_steps = params.at("max_steps").get<int64_t>();
  const bool capped = max_steps > 0 && max_steps < steps;
  if (capped) steps = max_steps;
  const int pad = m.tokenizer.pad_id();

  Json stop = {{"mode", calibrated ? "calibrated" : "epochs"}};
  Calibration cal;
  int64_t check_every = params.at("check_every").get<int64_t>();
  if (check_every == 0) check_every = std::max<int64_t>(1, (per_epoch + 2) / 4);
  Json checks = Json::array();
  // The forget set's NLL now; true once it reaches the held-out target.
  auto reached = [&](int64_t step) {
    const double v = mean_of(answer_nll(m.model, cal.forget, bs, pad, ctx.device));
    checks.push_back({{"step", step}, {"forget_nll", v}});
    char b[128];
    std::snprintf(b, sizeof b, "%s: step %lld: forget NLL %.4f, held-out target %.4f", label.c_str(),
                  static_cast<long long>(step), v, cal.target);
    log_info(b);
    return v >= cal.target;
  };
  bool target_reached = false;
  if (calibrated) {
    cal = calibrate(ctx, params, bs);
    stop.update(cal.report);
    stop["check_every"] = check_every;
    stop["max_epochs"] = epochs;
    target_reached = reached(0);
  }

  Rng rng = Rng(ctx.seed).fork("unlearn:" + label);
  BatchStream fs(forget, bs, rng.fork("forget")), rs(retain, bs, rng.fork("retain"));
  m.model->train();
  TrainSet train = trainable(*m.model, only);
  torch::optim::AdamW optim(train.params, torch::optim::AdamWOptions(lr).weight_decay(0.0));
  Progress prog(label, static_cast<size_t>(steps));
  const auto t0 = std::chrono::steady_clock::now();
  Json last = Json::object();
  int64_t s = 0;
  while (s < steps && !target_reached) {
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
    ++s;
    log["loss"] = loss.item<double>();
    std::string extra;
    for (const auto& [k, v] : log.items()) {
      char b[48];
      std::snprintf(b, sizeof b, "%s%s %.4f", extra.empty() ? "" : " ", k.c_str(), v.get<double>());
      extra += b;
    }
    prog.tick(1, extra);
    last = log;
    if (calibrated && (s % check_every == 0 || s == steps)) target_reached = reached(s);
  }
  prog.done();
  for (auto& p : m.model->parameters()) p.set_requires_grad(true);
  m.model->eval();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stop["stopped_at_step"] = s;
  stop["reason"] = target_reached ? "target" : capped ? "max_steps" : calibrated ? "max_epochs" : "epochs";
  if (calibrated) stop["checks"] = checks;
  return {{"steps", s}, {"seconds", secs}, {"last", last}, {"n_forget_examples", forget.size()}, {"stop", stop}};
}

}  // namespace medforget
