#include "train/trainer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "core/progress.hpp"
#include "core/ranges.hpp"
#include "core/rng.hpp"

namespace medforget {

void validate_train_options(const std::string& what, const TrainOptions& o) {
  check_option(what, "epochs", o.epochs);
  check_option(what, "batch_size", o.batch_size);
  check_option(what, "lr", o.lr);
  check_option(what, "weight_decay", o.weight_decay);
  check_option(what, "warmup", o.warmup);
  check_option(what, "grad_clip", o.grad_clip);
  check_option(what, "checkpoint_every", o.checkpoint_every);
  check_option(what, "stop_after", static_cast<double>(o.stop_after));
  check_range(what, "min_lr_ratio", o.min_lr_ratio, between(0, 1));
  check_range(what, "max_seconds", o.max_seconds, at_least(0));
  check_range(what, "curve_points", o.curve_points, between(2, 100000));
}

double lr_at(int64_t step, int64_t total, const TrainOptions& o) {
  const int64_t warm = std::max<int64_t>(1, static_cast<int64_t>(std::llround(o.warmup * total)));
  if (step < warm) return o.lr * static_cast<double>(step + 1) / static_cast<double>(warm);
  double p = total > warm ? static_cast<double>(step - warm) / static_cast<double>(total - warm) : 1.0;
  double floor = o.lr * o.min_lr_ratio;
  return floor + (o.lr - floor) * 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, p)));
}

std::vector<std::vector<size_t>> epoch_batches(const std::vector<Example>& data, int batch_size, uint64_t seed,
                                               int epoch) {
  Rng rng = Rng(seed).fork("epoch:" + std::to_string(epoch));
  std::vector<size_t> idx(data.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  rng.shuffle(idx);
  const size_t bs = static_cast<size_t>(batch_size), window = bs * 50;
  for (size_t w = 0; w < idx.size(); w += window) {
    auto e = idx.begin() + static_cast<std::ptrdiff_t>(std::min(idx.size(), w + window));
    std::stable_sort(idx.begin() + static_cast<std::ptrdiff_t>(w), e,
                     [&](size_t a, size_t b) { return data[a].chat.ids.size() < data[b].chat.ids.size(); });
  }
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < idx.size(); i += bs)
    batches.emplace_back(idx.begin() + static_cast<std::ptrdiff_t>(i),
                         idx.begin() + static_cast<std::ptrdiff_t>(std::min(idx.size(), i + bs)));
  rng.shuffle(batches);
  return batches;
}

namespace {

// What a snapshot was trained with: a resumed run must use the same, or the
// checkpoint's manifest would record options its weights were not trained with.
Json snapshot_options(const TrainOptions& o, size_t n_examples) {
  return {{"epochs", o.epochs},     {"batch_size", o.batch_size}, {"lr", o.lr},
          {"min_lr_ratio", o.min_lr_ratio}, {"warmup", o.warmup},  {"weight_decay", o.weight_decay},
          {"grad_clip", o.grad_clip}, {"seed", o.seed},           {"examples", n_examples}};
}

// torch::save writes its archive's end in a destructor, where a full disk would
// terminate the process; serialising to memory first sends every write through
// write_atomic's error path ("No space left on device") and leaves the previous
// snapshot in place.
template <class T>
void save_torch(const T& value, const std::filesystem::path& p) {
  std::ostringstream buf;
  torch::save(value, buf);
  write_atomic(p, buf.str());
}

void save_state(const std::filesystem::path& dir, MultimodalModel& model, torch::optim::AdamW& optim, int64_t step,
                double loss, const Json& options, const Json& curve) {
  StagingDir stage(dir);
  save_torch(model, stage.path() / "model.pt");
  save_torch(optim, stage.path() / "optimizer.pt");
  write_json(stage.path() / "state.json", {{"step", step}, {"loss", loss}, {"options", options}, {"curve", curve}});
  stage.commit();
}

// The largest step count in the optimiser's per-parameter state (0 when empty).
int64_t optimizer_step(torch::optim::AdamW& optim) {
  int64_t most = 0;
  for (auto& kv : optim.state())
    most = std::max<int64_t>(most, static_cast<torch::optim::AdamWParamState&>(*kv.second).step());
  return most;
}

std::string differences(const Json& was, const Json& now) {
  std::string d;
  for (const auto& [k, v] : now.items())
    if (!was.contains(k) || was.at(k) != v)
      d += (d.empty() ? "" : ", ") + k + " " + (was.contains(k) ? was.at(k).dump() : "(none)") + " -> " + v.dump();
  return d;
}

int64_t load_state(const std::filesystem::path& dir, MultimodalModel& model, torch::optim::AdamW& optim,
                   const Json& options) {
  const std::string redo = "; delete " + dir.string() + " to start over";
  auto state = read_json(dir / "state.json");
  if (!state.contains("options"))
    fail(dir.string() + ": this training state does not record its options, so it cannot be checked" + redo);
  if (state.at("options") != options)
    fail(dir.string() + ": this training state was made with other options (" +
         differences(state.at("options"), options) + ")" + redo);
  const int64_t step = state.at("step").get<int64_t>();
  try {
    torch::load(model, (dir / "model.pt").string());
    torch::load(optim, (dir / "optimizer.pt").string());
  } catch (const c10::Error& e) {
    fail(dir.string() + ": cannot resume from this training state (" + e.what_without_backtrace() + ")" + redo);
  }
  const int64_t opt_step = optimizer_step(optim);
  if (opt_step != step)
    fail(dir.string() + ": state.json says step " + std::to_string(step) + " but the optimiser's state has taken " +
         std::to_string(opt_step) + " steps; the snapshot is inconsistent" + redo);
  return step;
}

}  // namespace

TrainResult train_sft(MultimodalModel& model, const std::vector<Example>& data, int pad_id, const TrainOptions& opt,
                      const std::filesystem::path& state_dir, const torch::Device& device) {
  if (data.empty()) fail("finetune: no training examples");
  validate_train_options(opt.label, opt);
  torch::manual_seed(opt.seed);
  model->to(device);
  model->train();
  // What requires a gradient is trained: everything, or a LoRA run's adapters.
  std::vector<torch::Tensor> params;
  for (auto& p : model->parameters())
    if (p.requires_grad()) params.push_back(p);
  if (params.empty()) fail(opt.label + ": the model has no trainable parameters");
  torch::optim::AdamW optim(params,
                            torch::optim::AdamWOptions(opt.lr).weight_decay(opt.weight_decay).betas({0.9, 0.95}));
  TrainResult res;
  const int64_t per_epoch = static_cast<int64_t>((data.size() + opt.batch_size - 1) / opt.batch_size);
  res.total_steps = per_epoch * opt.epochs;
  int64_t step = 0;
  const Json options = snapshot_options(opt, data.size());
  if (std::filesystem::exists(state_dir / "state.json")) {
    step = load_state(state_dir, model, optim, options);
    const Json st = read_json(state_dir / "state.json");
    if (st.contains("curve") && st.at("curve").is_array()) res.loss_curve = st.at("curve");
    model->to(device);
    res.resumed_from = step;
    log_info(opt.label + ": resuming at step " + std::to_string(step) + " of " + std::to_string(res.total_steps));
  }
  Progress prog(opt.label, static_cast<size_t>(res.total_steps));
  prog.skip(static_cast<size_t>(step));
  auto t0 = std::chrono::steady_clock::now();
  int64_t tokens = 0;
  double ema = 0, epoch_sum = 0;
  int64_t epoch_n = 0;
  const int64_t curve_every = std::max<int64_t>(1, res.total_steps / opt.curve_points);
  for (int epoch = static_cast<int>(step / per_epoch); epoch < opt.epochs; ++epoch) {
    auto batches = epoch_batches(data, opt.batch_size, opt.seed, epoch);
    epoch_sum = 0;
    epoch_n = 0;
    for (int64_t bi = step - epoch * per_epoch; bi < per_epoch; ++bi) {
      if (opt.stop_after > 0 && step >= opt.stop_after) return res;
      std::vector<const Example*> ex;
      for (size_t i : batches[static_cast<size_t>(bi)]) ex.push_back(&data[i]);
      Batch b = collate(ex, pad_id, false, device);
      double lr = lr_at(step, res.total_steps, opt);
      for (auto& g : optim.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
      optim.zero_grad();
      auto logits = model->forward(b.input());
      // Token-level mean over all answer tokens in the batch.
      auto lp = answer_token_logprobs(logits, b);
      auto n = b.loss_mask.narrow(1, 1, b.loss_mask.size(1) - 1).sum().clamp_min(1);
      auto loss = -lp.sum() / n;
      loss.backward();
      torch::nn::utils::clip_grad_norm_(params, opt.grad_clip);
      optim.step();
      double l = loss.item<double>();
      if (!std::isfinite(l)) fail(opt.label + ": loss became " + std::to_string(l) + " at step " + std::to_string(step) + "; lower --lr");
      ema = step == res.resumed_from ? l : 0.95 * ema + 0.05 * l;
      epoch_sum += l;
      ++epoch_n;
      tokens += b.attention_mask.sum().item<int64_t>();
      ++step;
      res.steps = step;
      res.last_loss = l;
      if (step % curve_every == 0 || step == res.total_steps) res.loss_curve.push_back({step, ema, lr});
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      char extra[96];
      std::snprintf(extra, sizeof extra, "loss %.4f lr %.2e %.0f tok/s", ema, lr, secs > 0 ? tokens / secs : 0.0);
      prog.tick(1, extra);
      bool epoch_end = bi + 1 == per_epoch;
      const bool out_of_time = opt.max_seconds > 0 && secs >= opt.max_seconds && step < res.total_steps;
      if ((opt.checkpoint_every > 0 && step % opt.checkpoint_every == 0) || (epoch_end && step < res.total_steps) ||
          out_of_time)
        save_state(state_dir, model, optim, step, ema, options, res.loss_curve);
      if (out_of_time) {
        prog.done();
        log_info(opt.label + ": --max-seconds reached at step " + std::to_string(step) + " of " +
                 std::to_string(res.total_steps) + "; the snapshot is saved, run again to continue");
        res.seconds = secs;
        return res;
      }
    }
  }
  prog.done();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.tokens_per_second = res.seconds > 0 ? tokens / res.seconds : 0;
  res.mean_last_epoch_loss = epoch_n ? epoch_sum / epoch_n : 0;
  res.finished = true;
  model->eval();
  return res;
}

}  // namespace medforget
