#pragma once
// Examples (encoded chat + image) and padding-aware collation into batches.
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "data/item.hpp"
#include "model/model.hpp"
#include "text/chat_template.hpp"

namespace medforget {

struct Example {
  std::string id;
  EncodedChat chat;
  torch::Tensor image;  // [C, H, W] float in [0,1]
};

struct Batch {
  torch::Tensor ids, attention_mask, loss_mask, images;  // [B,T] int64, [B,T] bool, [B,T] bool, [B,C,H,W]
  std::vector<std::string> sample_ids;
  ModelInput input() const { return {ids, attention_mask, images, &sample_ids}; }
};

// left_pad: pads before the tokens (generation); otherwise after (training, scoring).
Batch collate(const std::vector<const Example*>& examples, int pad_id, bool left_pad, const torch::Device& device);

// Loads benchmark images once each, as model tensors; Error names the file.
class ImageCache {
 public:
  ImageCache(std::filesystem::path bench_dir, int image_size) : dir_(std::move(bench_dir)), size_(image_size) {}
  const torch::Tensor& get(const std::string& rel_path);

 private:
  std::filesystem::path dir_;
  int size_;
  std::map<std::string, torch::Tensor> cache_;
};

// Encodes items as training examples (prompt + answer); Error on over-long samples.
std::vector<Example> make_examples(const std::vector<Item>& items, const Tokenizer& tok, const ModelConfig& cfg,
                                   ImageCache& images);

// Per-token log-probabilities of the next token: [B, T-1], 0 where loss_mask is off.
torch::Tensor answer_token_logprobs(const torch::Tensor& logits, const Batch& b);
// Mean negative log-likelihood over each sample's answer tokens: [B].
torch::Tensor per_sample_loss(const torch::Tensor& logits, const Batch& b);

}  // namespace medforget
