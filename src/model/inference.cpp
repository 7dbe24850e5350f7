#include "model/inference.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "core/error.hpp"

namespace medforget {

std::vector<size_t> length_order(const std::vector<Example>& examples) {
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return examples[a].chat.ids.size() < examples[b].chat.ids.size();
  });
  return order;
}

// The examples at order[start, end), for collate.
static std::vector<const Example*> batch_of(const std::vector<Example>& examples, const std::vector<size_t>& order,
                                            size_t start, size_t end) {
  std::vector<const Example*> ex;
  for (size_t i = start; i < end; ++i) ex.push_back(&examples[order[i]]);
  return ex;
}

std::vector<std::vector<int>> generate_greedy(MultimodalModel& model, const std::vector<Example>& prompts,
                                              int eos, int pad_id, const GenerateOptions& opt,
                                              const torch::Device& device) {
  torch::NoGradGuard ng;
  model->eval();
  std::vector<std::vector<int>> out(prompts.size());
  const int64_t ctx = model->config().max_position_embeddings;
  const auto order = length_order(prompts);
  const size_t bs = static_cast<size_t>(std::max(1, opt.batch_size));
  // Vision markers are never text: a damaged (e.g. over-unlearned) model that
  // chose <|image_pad|> would otherwise stop the whole evaluation at the next step.
  const auto& cfg = model->config();
  const auto vision_ids = torch::tensor(
      std::vector<int64_t>{cfg.image_token_id, cfg.vision_start_token_id, cfg.vision_end_token_id},
      torch::dtype(torch::kLong).device(device));
  for (size_t start = 0; start < prompts.size(); start += bs) {
    const size_t end = std::min(prompts.size(), start + bs);
    Batch b = collate(batch_of(prompts, order, start, end), pad_id, /*left_pad=*/true, device);
    const int64_t B = b.ids.size(0);
    const int64_t budget = std::min<int64_t>(opt.max_new_tokens, ctx - b.ids.size(1));
    if (budget <= 0) fail("generate: prompt of " + std::to_string(b.ids.size(1)) + " tokens leaves no room in the context of " + std::to_string(ctx));
    auto done = torch::zeros({B}, torch::dtype(torch::kBool).device(device));
    std::vector<torch::Tensor> steps;
    KVCache cache;
    ModelInput in = b.input();
    torch::Tensor ids = b.ids, mask = b.attention_mask;
    for (int64_t s = 0; s < budget; ++s) {
      torch::Tensor logits;
      if (opt.use_cache) {
        logits = model->forward(in, &cache);
      } else {
        logits = model->forward({ids, mask, b.pixel_values, b.image_grid_thw, &b.sample_ids});
      }
      auto last = logits.select(1, logits.size(1) - 1).index_fill(-1, vision_ids, -std::numeric_limits<float>::infinity());
      if (opt.vocab_limit > 0 && opt.vocab_limit < last.size(-1))
        last.narrow(-1, opt.vocab_limit, last.size(-1) - opt.vocab_limit).fill_(-std::numeric_limits<float>::infinity());
      auto next = last.argmax(-1);  // [B]
      next = torch::where(done, torch::full_like(next, pad_id), next);
      steps.push_back(next);
      done = done | next.eq(eos);
      if (done.all().item<bool>()) break;
      if (opt.use_cache) {
        in = {next.unsqueeze(1), torch::ones({B, 1}, torch::dtype(torch::kBool).device(device)), torch::Tensor(), {},
              &b.sample_ids};
      } else {
        ids = torch::cat({ids, next.unsqueeze(1)}, 1);
        mask = torch::cat({mask, torch::ones({B, 1}, torch::dtype(torch::kBool).device(device))}, 1);
      }
    }
    auto all = torch::stack(steps, 1).to(torch::kCPU);  // [B, S]
    auto a = all.accessor<int64_t, 2>();
    for (int64_t r = 0; r < B; ++r) {
      auto& o = out[order[start + static_cast<size_t>(r)]];
      for (int64_t s = 0; s < all.size(1); ++s) {
        int id = static_cast<int>(a[r][s]);
        if (id == eos) break;
        o.push_back(id);
      }
    }
    if (opt.on_batch) opt.on_batch(end - start);
  }
  return out;
}

std::vector<AnswerScore> score_examples(MultimodalModel& model, const std::vector<Example>& examples, int pad_id,
                                        const ScoreOptions& opt, const torch::Device& device) {
  torch::NoGradGuard ng;
  model->eval();
  std::vector<AnswerScore> out(examples.size());
  const auto order = length_order(examples);
  const size_t bs = static_cast<size_t>(std::max(1, opt.batch_size));
  for (size_t start = 0; start < examples.size(); start += bs) {
    const size_t end = std::min(examples.size(), start + bs);
    Batch b = collate(batch_of(examples, order, start, end), pad_id, false, device);
    auto logits = model->forward(b.input());
    auto lp = answer_token_logprobs(logits, b).to(torch::kCPU);
    torch::Tensor mu, sigma;
    if (opt.token_stats) {
      auto lsm = torch::log_softmax(logits.narrow(1, 0, logits.size(1) - 1).to(torch::kFloat32), -1);
      auto p = lsm.exp();
      mu = (p * lsm).sum(-1);
      sigma = ((p * lsm * lsm).sum(-1) - mu * mu).clamp_min(0).sqrt();
      mu = mu.to(torch::kCPU).contiguous();
      sigma = sigma.to(torch::kCPU).contiguous();
    }
    const float* mu_p = opt.token_stats ? mu.data_ptr<float>() : nullptr;
    const float* sigma_p = opt.token_stats ? sigma.data_ptr<float>() : nullptr;
    auto m = b.loss_mask.narrow(1, 1, b.loss_mask.size(1) - 1).to(torch::kCPU);
    auto lpa = lp.accessor<float, 2>();
    auto ma = m.accessor<bool, 2>();
    for (int64_t r = 0; r < lp.size(0); ++r) {
      AnswerScore s;
      for (int64_t t = 0; t < lp.size(1); ++t)
        if (ma[r][t]) {
          s.token_logprobs.push_back(lpa[r][t]);
          s.sum_logprob += lpa[r][t];
          if (opt.token_stats) {
            s.token_mu.push_back(mu_p[r * lp.size(1) + t]);
            s.token_sigma.push_back(sigma_p[r * lp.size(1) + t]);
          }
        }
      s.n_tokens = static_cast<int>(s.token_logprobs.size());
      s.mean_logprob = s.n_tokens ? s.sum_logprob / s.n_tokens : 0.0;
      out[order[start + static_cast<size_t>(r)]] = std::move(s);
    }
    if (opt.on_batch) opt.on_batch(end - start);
  }
  return out;
}

}  // namespace medforget
