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
    const ImageInput& img = ex[static_cast<size_t>(r)]->image;
    if (img.pixel_values.defined()) {
      imgs.push_back(img.pixel_values);
      b.image_grid_thw.push_back(img.grid);
    }
    b.sample_ids.push_back(ex[static_cast<size_t>(r)]->id);
  }
  b.ids = ids.to(device);
  b.attention_mask = am.to(device);
  b.loss_mask = lm.to(device);
  if (!imgs.empty()) b.pixel_values = torch::cat(imgs, 0).to(device);
  return b;
}

ImageInput image_input(const ProcessedImage& p) {
  ImageInput in;
  in.pixel_values = torch::from_blob(const_cast<float*>(p.pixel_values.data()), {p.rows, p.cols}, torch::kFloat32).clone();
  in.grid = p.grid_thw;
  return in;
}

ImageInput gray_image_input(const std::vector<uint8_t>& pixels, int rows, int cols, const ImageProcessorConfig& cfg) {
  if (static_cast<int64_t>(pixels.size()) != int64_t{rows} * cols)
    fail("image of " + std::to_string(pixels.size()) + " bytes, expected " + std::to_string(rows) + "x" +
         std::to_string(cols));
  return image_input(process_image(pixels.data(), rows, cols, 1, cfg));
}

const ImageInput& ImageCache::get(const std::string& rel) {
  auto it = cache_.find(rel);
  if (it != cache_.end()) return it->second;
  const auto path = dir_ / rel;
  cv::Mat m = read_png(path, 0);
  if (!m.isContinuous()) m = m.clone();
  std::vector<uint8_t> px(m.datastart, m.dataend);
  try {
    return cache_[rel] = gray_image_input(px, m.rows, m.cols, processor_);
  } catch (const Error& e) {
    fail(path.string() + ": " + e.what());
  }
}

std::vector<Example> make_examples(const std::vector<Item>& items, const Tokenizer& tok, const ModelConfig& cfg,
                                   ImageCache& images) {
  std::vector<Example> out;
  out.reserve(items.size());
  for (const auto& it : items) {
    Example e;
    e.id = it.id;
    e.image = images.get(it.image);
    try {
      e.chat = encode_chat(tok, it.prompt, it.answer, static_cast<int>(e.image.num_tokens(cfg.vision_config.spatial_merge_size)),
                           cfg.max_position_embeddings);
    } catch (const Error& err) {
      fail("item '" + it.id + "': " + err.what());
    }
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
