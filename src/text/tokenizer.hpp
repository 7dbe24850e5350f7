#pragma once
// SentencePiece tokenizer with the chat template's special tokens. No torch here.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace medforget {

struct SpecialTokens {
  static constexpr const char* kPad = "<|endoftext|>";
  static constexpr const char* kImStart = "<|im_start|>";
  static constexpr const char* kImEnd = "<|im_end|>";
  static constexpr const char* kVisionStart = "<|vision_start|>";
  static constexpr const char* kImagePad = "<|image_pad|>";
  static constexpr const char* kVisionEnd = "<|vision_end|>";
  static const std::vector<std::string>& all();
};

struct TokenizerTrainOptions {
  int vocab_size = 2000;
  std::string model_type = "bpe";  // bpe | unigram
  uint64_t seed = 1;
  int num_threads = 2;
};

class Tokenizer {
 public:
  Tokenizer();
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Trains on the given texts (deterministically) and writes `model_file`
  // (SentencePiece .model) atomically.
  static void train(const std::vector<std::string>& texts, const std::filesystem::path& model_file,
                    const TokenizerTrainOptions& opt);
  // Plain SentencePiece training (no special tokens, no medforget defaults) into a
  // serialized model: `options` are SentencePiece trainer flags ({"vocab_size", "100"}, ...).
  // For tools and tests (e.g. building a model that `load` must reject).
  static std::string train_raw_sentencepiece(const std::vector<std::string>& sentences,
                                             const std::vector<std::pair<std::string, std::string>>& options,
                                             uint64_t seed = 1);
  // Error when the file is missing/corrupt or lacks any special token.
  static Tokenizer load(const std::filesystem::path& model_file);

  std::vector<int> encode(const std::string& text) const;  // no special tokens parsed from text
  std::string decode(const std::vector<int>& ids) const;    // special tokens dropped
  int vocab_size() const;
  int piece_id(const std::string& piece) const;  // Error if unknown
  std::string id_to_piece(int id) const;         // Error if outside the vocabulary
  bool is_special(int id) const;                 // one of the SpecialTokens (control symbols)
  std::string digest() const;  // sha256 of the serialized model: ties checkpoints to tokenizers

  int pad_id() const { return pad_; }
  int im_start_id() const { return im_start_; }
  int im_end_id() const { return im_end_; }
  int vision_start_id() const { return vision_start_; }
  int image_pad_id() const { return image_pad_; }
  int vision_end_id() const { return vision_end_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int pad_ = -1, im_start_ = -1, im_end_ = -1, vision_start_ = -1, image_pad_ = -1, vision_end_ = -1;
};

}  // namespace medforget
