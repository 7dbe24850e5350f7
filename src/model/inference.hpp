#pragma once
// Batched greedy generation (with or without a KV cache) and log-likelihood
// scoring of given answers. Both run under NoGradGuard, batch examples of
// similar length together (padding is masked, so only the work changes) and
// return results in the order of their input.
#include <functional>
#include <string>
#include <vector>

#include "train/batch.hpp"

namespace medforget {

// Called after each batch with the number of examples it held (progress lines).
using BatchDone = std::function<void(size_t)>;

struct GenerateOptions {
  int max_new_tokens = 128;
  bool use_cache = true;
  int batch_size = 16;
  // Ids from here up are never chosen: a real checkpoint's embedding rows past its
  // tokenizer (Qwen2.5-VL: 152,064 rows, 151,665 tokens) are padding, not text.
  int vocab_limit = 0;  // 0: the whole vocabulary
  BatchDone on_batch;
};

// Greedy continuation token ids per example (stops at <|im_end|>, which is not
// included). The vision marker tokens are never chosen.
std::vector<std::vector<int>> generate_greedy(MultimodalModel& model, const std::vector<Example>& prompts,
                                              int eos_id, int pad_id, const GenerateOptions& opt,
                                              const torch::Device& device);

struct AnswerScore {
  double sum_logprob = 0, mean_logprob = 0;
  int n_tokens = 0;
  std::vector<float> token_logprobs;  // per answer token (+ closing im_end), for MIA
  // With ScoreOptions::token_stats: mean and standard deviation of log p(v) over
  // the vocabulary under the model's own next-token distribution at each answer
  // position (E_p[log p], sqrt Var_p[log p]): what Min-K%++ normalises by.
  std::vector<float> token_mu, token_sigma;
  double loss() const { return -mean_logprob; }
};

struct ScoreOptions {
  int batch_size = 16;
  bool token_stats = false;
  BatchDone on_batch;
};

// Indices of `examples` with the shortest first (stable): batching in this order
// keeps padding, and with it wasted work, small.
std::vector<size_t> length_order(const std::vector<Example>& examples);

// Scores each example's answer (its loss_mask tokens) given its prompt and image.
std::vector<AnswerScore> score_examples(MultimodalModel& model, const std::vector<Example>& examples, int pad_id,
                                        const ScoreOptions& opt, const torch::Device& device);
inline std::vector<AnswerScore> score_examples(MultimodalModel& model, const std::vector<Example>& examples,
                                               int pad_id, int batch_size, const torch::Device& device) {
  ScoreOptions opt;
  opt.batch_size = batch_size;
  return score_examples(model, examples, pad_id, opt, device);
}

}  // namespace medforget
