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

// One image as the model takes it: the image processor's patches and grid.
struct ImageInput {
  torch::Tensor pixel_values;  // [t·h·w, C·T·P·P] float32; undefined: no image
  GridThw grid{0, 0, 0};
  int64_t num_tokens(int merge) const { return grid[0] * grid[1] * grid[2] / (int64_t{merge} * merge); }
};
ImageInput image_input(const ProcessedImage& p);
// An 8-bit grayscale image (rows × cols bytes) through the image processor.
ImageInput gray_image_input(const std::vector<uint8_t>& pixels, int rows, int cols, const ImageProcessorConfig& cfg);

struct Example {
  std::string id;
  EncodedChat chat;
  ImageInput image;
};

struct Batch {
  torch::Tensor ids, attention_mask, loss_mask;  // [B,T] int64, [B,T] bool, [B,T] bool
  torch::Tensor pixel_values;                    // the rows' images' patches, in row order; undefined if none
  std::vector<GridThw> image_grid_thw;
  std::vector<std::string> sample_ids;
  ModelInput input() const { return {ids, attention_mask, pixel_values, image_grid_thw, &sample_ids}; }
  void drop_images() {
    pixel_values = torch::Tensor();
    image_grid_thw.clear();
  }
};

// left_pad: pads before the tokens (generation); otherwise after (training, scoring).
Batch collate(const std::vector<const Example*>& examples, int pad_id, bool left_pad, const torch::Device& device);

// Loads benchmark images (grayscale PNGs of any size) once each, through the
// model's image processor; Error names the file.
class ImageCache {
 public:
  ImageCache(std::filesystem::path bench_dir, ImageProcessorConfig processor)
      : dir_(std::move(bench_dir)), processor_(processor) {}
  const ImageInput& get(const std::string& rel_path);

 private:
  std::filesystem::path dir_;
  ImageProcessorConfig processor_;
  std::map<std::string, ImageInput> cache_;
};

// Encodes items as training examples (prompt + answer); Error on over-long samples.
std::vector<Example> make_examples(const std::vector<Item>& items, const Tokenizer& tok, const ModelConfig& cfg,
                                   ImageCache& images);

// Per-token log-probabilities of the next token: [B, T-1], 0 where loss_mask is off.
torch::Tensor answer_token_logprobs(const torch::Tensor& logits, const Batch& b);
// Mean negative log-likelihood over each sample's answer tokens: [B].
torch::Tensor per_sample_loss(const torch::Tensor& logits, const Batch& b);

}  // namespace medforget
