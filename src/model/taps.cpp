#include "model/taps.hpp"

#include <cmath>

#include "core/error.hpp"
#include "model/arch_names.hpp"

namespace medforget {

void Taps::add(const std::string& linear_name, TapSite site, TapFn fn) {
  fns_[{linear_name, static_cast<int>(site)}].push_back(std::move(fn));
}

void Taps::clear() {
  fns_.clear();
  vision_mask_ = torch::Tensor();
  token_mask_ = torch::Tensor();
  patch_rows_ = token_rows_ = torch::Tensor();
  batch_size_ = 0;
  sample_ids_ = nullptr;
}

void Taps::set_vision_rows(torch::Tensor patch_rows, torch::Tensor token_rows, int64_t batch_size) {
  patch_rows_ = std::move(patch_rows);
  token_rows_ = std::move(token_rows);
  batch_size_ = batch_size;
}

torch::Tensor per_sample_sum(const torch::Tensor& x, const TapContext& ctx) {
  if (!ctx.rows.defined() || x.dim() != 2 || ctx.rows.size(0) != x.size(0))
    fail("taps: per-sample reduction needs a vision Linear's packed rows");
  return torch::zeros({ctx.batch_size, x.size(1)}, x.options()).index_add(0, ctx.rows, x);
}

torch::Tensor per_sample_mean(const torch::Tensor& x, const TapContext& ctx) {
  auto n = torch::zeros({ctx.batch_size}, x.options()).index_add(0, ctx.rows, torch::ones({x.size(0)}, x.options()));
  return per_sample_sum(x, ctx) / n.clamp_min(1).unsqueeze(1);
}

void Taps::set_batch(torch::Tensor vision_mask, torch::Tensor token_mask, const std::vector<std::string>* sample_ids) {
  vision_mask_ = std::move(vision_mask);
  token_mask_ = std::move(token_mask);
  sample_ids_ = sample_ids;
}

torch::Tensor Taps::apply(const std::string& name, bool in_vision, TapSite site, const torch::Tensor& x) const {
  auto it = fns_.find({name, static_cast<int>(site)});
  if (it == fns_.end()) return x;
  TapContext ctx;
  ctx.module = &name;
  ctx.in_vision = in_vision;
  if (!in_vision) {
    ctx.vision_mask = vision_mask_;
    ctx.token_mask = token_mask_;
  } else {
    ctx.rows = arch::in_merger(name) ? token_rows_ : patch_rows_;
    ctx.batch_size = batch_size_;
  }
  ctx.sample_ids = sample_ids_;
  torch::Tensor y = x;
  for (const auto& fn : it->second) {
    torch::Tensor r = fn(y, ctx);
    if (r.defined()) y = r;
  }
  return y;
}

namespace {
thread_local bool skip_init = false;
}  // namespace

SkipParameterInit::SkipParameterInit() : was_(skip_init) { skip_init = true; }
SkipParameterInit::~SkipParameterInit() { skip_init = was_; }
bool SkipParameterInit::active() { return skip_init; }

TapLinearImpl::TapLinearImpl(int64_t in, int64_t out, bool has_bias) {
  weight = register_parameter("weight", torch::empty({out, in}));
  if (!skip_init) torch::nn::init::normal_(weight, 0.0, 0.02);
  if (has_bias) bias = register_parameter("bias", skip_init ? torch::empty({out}) : torch::zeros({out}));
}

void TapLinearImpl::attach(const Taps* taps, std::string full_name, bool in_vision) {
  taps_ = taps;
  name_ = std::move(full_name);
  in_vision_ = in_vision;
}

void TapLinearImpl::enable_lora(int64_t r, double scaling, double dropout) {
  if (lora_A) fail("LoRA: " + name_ + " already has an adapter");
  const int64_t in = weight.size(1), out = weight.size(0);
  lora_A = register_module("lora_A", torch::nn::Linear(torch::nn::LinearOptions(in, r).bias(false)));
  lora_B = register_module("lora_B", torch::nn::Linear(torch::nn::LinearOptions(r, out).bias(false)));
  // peft's init_lora_weights=True: A kaiming-uniform (a = √5), B zeros, so an
  // untrained adapter changes nothing.
  torch::NoGradGuard ng;
  torch::nn::init::kaiming_uniform_(lora_A->weight, std::sqrt(5.0));
  lora_B->weight.zero_();
  lora_A->weight.set_data(lora_A->weight.to(weight.device()));
  lora_B->weight.set_data(lora_B->weight.to(weight.device()));
  lora_scaling = scaling;
  lora_dropout = dropout;
  lora_active = true;
}

torch::Tensor TapLinearImpl::forward(const torch::Tensor& x) {
  const bool tapped = taps_ && taps_->active();
  torch::Tensor in = tapped ? taps_->apply(name_, in_vision_, TapSite::Input, x) : x;
  torch::Tensor out = torch::linear(in, weight, bias);
  if (lora_active) {
    auto d = lora_dropout > 0 && is_training() ? torch::dropout(in, lora_dropout, true) : in;
    out = out + lora_B(lora_A(d.to(lora_A->weight.scalar_type()))).to(out.scalar_type()) * lora_scaling;
  }
  return tapped ? taps_->apply(name_, in_vision_, TapSite::Output, out) : out;
}

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

// As Qwen2RMSNorm: normalised in float32, cast back, then scaled.
torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  auto h = x.to(torch::kFloat32);
  h = h * torch::rsqrt(h.pow(2).mean(-1, true) + eps_);
  return weight * h.to(x.scalar_type());
}

}  // namespace medforget
