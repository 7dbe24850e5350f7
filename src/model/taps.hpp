#pragma once
// Activation taps: observe or edit any Linear's input or output by its full
// parameter-path name ("model.layers.3.mlp.gate_proj") during a forward pass,
// with the batch's per-token vision mask and sample ids. One small API shared
// by the unlearning methods; with no tap set a Linear pays one branch.
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace medforget {

enum class TapSite { Input, Output };

struct TapContext {
  const std::string* module = nullptr;        // full name of the Linear
  torch::Tensor vision_mask;                  // [B, T] bool for decoder Linears; undefined in the vision tower/merger
  torch::Tensor token_mask;                   // [B, T] bool, real (non-pad) tokens; same availability
  const std::vector<std::string>* sample_ids = nullptr;  // one per batch row, if the caller set them
  bool in_vision = false;                     // the Linear belongs to `visual.*`
  // Vision Linears see all images' rows packed together ([rows, D]: patches in
  // the blocks, merged tokens in the merger, both in window order): the batch
  // row each belongs to, and the batch size.
  torch::Tensor rows;                         // [rows] int64; undefined outside the vision tower
  int64_t batch_size = 0;
};

// Per-sample reductions of a vision Linear's packed rows: [rows, D] → [B, D]
// (samples without image rows get 0).
torch::Tensor per_sample_sum(const torch::Tensor& x, const TapContext& ctx);
torch::Tensor per_sample_mean(const torch::Tensor& x, const TapContext& ctx);

// Return the tensor to use in place of x (an undefined tensor keeps x).
using TapFn = std::function<torch::Tensor(const torch::Tensor& x, const TapContext& ctx)>;

class Taps {
 public:
  void add(const std::string& linear_name, TapSite site, TapFn fn);
  void clear();
  bool active() const { return !fns_.empty(); }
  // Applies the taps registered for (name, site) in order.
  torch::Tensor apply(const std::string& name, bool in_vision, TapSite site, const torch::Tensor& x) const;
  void set_batch(torch::Tensor vision_mask, torch::Tensor token_mask, const std::vector<std::string>* sample_ids);
  // Set by the vision tower: the batch row of every patch and merged token, in
  // the order its Linears see them.
  void set_vision_rows(torch::Tensor patch_rows, torch::Tensor token_rows, int64_t batch_size);

 private:
  std::map<std::pair<std::string, int>, std::vector<TapFn>> fns_;
  torch::Tensor vision_mask_, token_mask_, patch_rows_, token_rows_;
  int64_t batch_size_ = 0;
  const std::vector<std::string>* sample_ids_ = nullptr;
};

// While one is alive (on this thread), new model parameters are allocated but not
// initialised: a checkpoint is about to overwrite them, and untouched pages cost
// no memory, so a large model loads in its own size rather than twice it.
class SkipParameterInit {
 public:
  SkipParameterInit();
  ~SkipParameterInit();
  SkipParameterInit(const SkipParameterInit&) = delete;
  SkipParameterInit& operator=(const SkipParameterInit&) = delete;
  static bool active();

 private:
  bool was_;
};

// nn::Linear with HF parameter names ("weight", "bias") that consults Taps.
class TapLinearImpl : public torch::nn::Module {
 public:
  TapLinearImpl(int64_t in, int64_t out, bool bias);
  torch::Tensor forward(const torch::Tensor& x);
  void attach(const Taps* taps, std::string full_name, bool in_vision);
  const std::string& full_name() const { return name_; }
  // LoRA (model/lora.hpp): registers lora_A [r, in] and lora_B [out, r].
  void enable_lora(int64_t r, double scaling, double dropout);
  torch::Tensor weight, bias;
  torch::nn::Linear lora_A{nullptr}, lora_B{nullptr};
  double lora_scaling = 0, lora_dropout = 0;
  bool lora_active = false;  // false once merged

 private:
  const Taps* taps_ = nullptr;
  std::string name_;
  bool in_vision_ = false;
};
TORCH_MODULE(TapLinear);

// RMSNorm with a "weight" parameter (HF Qwen2RMSNorm).
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

}  // namespace medforget
