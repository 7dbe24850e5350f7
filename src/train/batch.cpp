#include "train/batch.hpp"

#include "core/error.hpp"
#include "data/radiograph.hpp"

namespace medforget {

Batch collate(const std::vector<const Example*>& ex, int pad_id, bool left_pad, const torch::Device& device) {
  if (ex.empty()) fail("collate: empty batch");
  const int64_t B = static_cast<int64_t>(ex.size());
  int64_t T = 0;
  for (const auto* e : ex) T = std::max<int64_t>(T, static_cast<int64_t>(e->chat.ids.size()));
  auto ids = torch::full({B, T}, static_cast<int64_t>(pad_id), torch::kLong);
  auto am = torch::zeros({B, T}, torch::kBool);
  auto lm = torch::zeros({B, T}, torch::kBool);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto am_a = am.accessor<bool, 2>();
  auto lm_a = lm.accessor<bool, 2>();
  std::vector<torch::Tensor> imgs;
  Batch b;
  for (int64_t r = 0; r < B; ++r) {
    const auto& c = ex[static_cast<size_t>(r)]->chat;
    const int64_t n = static_cast<int64_t>(c.ids.size()), off = left_pad ? T - n : 0;
    for (int64_t t = 0; t < n; ++t) {
      ids_a[r][off + t] = c.ids[static_cast<size_t>(t)];
      am_a[r][off + t] = true;
      lm_a[r][off + t] = c.loss_mask[static_cast<size_t>(t)] != 0;
    }
    imgs.push_back(ex[static_cast<size_t>(r)]->image);
    b.sample_ids.push_back(ex[static_cast<size_t>(r)]->id);
  }
  b.ids = ids.to(device);
  b.attention_mask = am.to(device);
  b.loss_mask = lm.to(device);
  b.images = torch::stack(imgs).to(device);
  return b;
}

const torch::Tensor& ImageCache::get(const std::string& rel) {
  auto it = cache_.find(rel);
  if (it != cache_.end()) return it->second;
  cv::Mat m = read_png(dir_ / rel, size_);
  std::vector<uint8_t> px(m.datastart, m.dataend);
  return cache_[rel] = image_tensor(px, size_).clone();
}

std::vector<Example> make_examples(const std::vector<Item>& items, const Tokenizer& tok, const ModelConfig& cfg,
                                   ImageCache& images) {
  std::vector<Example> out;
  out.reserve(items.size());
  const int n_img = cfg.vision_config.num_image_tokens();
  for (const auto& it : items) {
    Example e;
    e.id = it.id;
    try {
      e.chat = encode_chat(tok, it.prompt, it.answer, n_img, cfg.max_position_embeddings);
    } catch (const Error& err) {
      fail("item '" + it.id + "': " + err.what());
    }
    e.image = images.get(it.image);
    out.push_back(std::move(e));
  }
  return out;
}

torch::Tensor answer_token_logprobs(const torch::Tensor& logits, const Batch& b) {
  auto lp = torch::log_softmax(logits.narrow(1, 0, logits.size(1) - 1).to(torch::kFloat32), -1);
  auto target = b.ids.narrow(1, 1, b.ids.size(1) - 1);
  auto tok = lp.gather(-1, target.unsqueeze(-1)).squeeze(-1);
  return tok * b.loss_mask.narrow(1, 1, b.loss_mask.size(1) - 1).to(tok.dtype());
}

torch::Tensor per_sample_loss(const torch::Tensor& logits, const Batch& b) {
  auto tok = answer_token_logprobs(logits, b);
  auto n = b.loss_mask.narrow(1, 1, b.loss_mask.size(1) - 1).sum(1).clamp_min(1).to(tok.dtype());
  return -tok.sum(1) / n;
}

}  // namespace medforget
