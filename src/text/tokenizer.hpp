#pragma once
// The runtime tokenizer: a Hugging Face tokenizer.json (byte-level BPE, read by
// BpeTokenizer) with the ids of Qwen2.5-VL's chat-template special tokens, and the
// chat template's system message from tokenizer_config.json when one is beside
// it. The testbed's own vocabularies are trained here into the same format
// (text/bpe_trainer.hpp), so real checkpoints and testbed models tokenize
// through one implementation. No torch here.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace medforget {

class BpeTokenizer;

struct SpecialTokens {
  static constexpr const char* kPad = "<|endoftext|>";
  static constexpr const char* kImStart = "<|im_start|>";
  static constexpr const char* kImEnd = "<|im_end|>";
  static constexpr const char* kVisionStart = "<|vision_start|>";
  static constexpr const char* kImagePad = "<|image_pad|>";
  static constexpr const char* kVisionEnd = "<|vision_end|>";
  static constexpr const char* kVideoPad = "<|video_pad|>";
  static const std::vector<std::string>& all();  // the ones a chat needs, then <|video_pad|>
};

struct TokenizerTrainOptions {
  int vocab_size = 2000;  // byte alphabet + merges; the special tokens come on top
  int min_frequency = 2;
};

// Qwen2.5-VL's default system message (its chat template adds it when a
// conversation has none).
inline constexpr const char* kQwenSystemMessage = "You are a helpful assistant.";

class Tokenizer {
 public:
  Tokenizer();
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  // Trains a byte-level BPE vocabulary on the texts (deterministically) and
  // writes `tokenizer_json` atomically.
  static void train(const std::vector<std::string>& texts, const std::filesystem::path& tokenizer_json,
                    const TokenizerTrainOptions& opt);
  // tokenizer.json, or a directory holding it (and optionally
  // tokenizer_config.json). Error naming the file when it is missing, not a
  // byte-level BPE tokenizer.json, or lacks one of the chat template's special
  // tokens as a special added token.
  static Tokenizer load(const std::filesystem::path& path);
  std::vector<int> encode(const std::string& text) const;  // special tokens in the text stay text
  std::string decode(const std::vector<int>& ids) const;    // special tokens dropped
  int vocab_size() const;                          // distinct ids (len(tokenizer) in transformers)
  int piece_id(const std::string& piece) const;    // Error if unknown
  std::string id_to_piece(int id) const;           // Error if outside the vocabulary
  bool is_special(int id) const;
  std::string digest() const;  // sha256 of tokenizer.json: ties checkpoints to tokenizers
  const std::filesystem::path& file() const;  // the tokenizer.json read
  // The system turn's text: tokenizer_config.json's chat template default, or Qwen2.5-VL's.
  const std::string& system_message() const;
  // tokenizer_config.json for this tokenizer: Qwen2.5-VL's chat template and special tokens.
  Json config_json(int model_max_length) const;
  int pad_id() const { return pad_; }
  int im_start_id() const { return im_start_; }
  int im_end_id() const { return im_end_; }
  int vision_start_id() const { return vision_start_; }
  int image_pad_id() const { return image_pad_; }
  int vision_end_id() const { return vision_end_; }
  int video_pad_id() const { return video_pad_; }  // -1 when the vocabulary has none

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int pad_ = -1, im_start_ = -1, im_end_ = -1, vision_start_ = -1, image_pad_ = -1, vision_end_ = -1, video_pad_ = -1;
};

// Qwen2.5-VL's chat template (tokenizer_config.json "chat_template").
const std::string& qwen2_5_vl_chat_template();

}  // namespace medforget
