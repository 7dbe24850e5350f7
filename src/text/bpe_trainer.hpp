#pragma once
// Trains a byte-level BPE vocabulary in Qwen2's tokenizer.json layout: NFC
// normalizer, Qwen2's Split regex then ByteLevel as pre-tokenizer, the 256 byte
// characters as the base alphabet (any text encodes, nothing is unknown), the
// ByteLevel decoder, and the given special tokens as added tokens after the
// vocabulary. The file it writes is read by BpeTokenizer, medforget's one
// tokenizer runtime, and by Hugging Face tokenizers. No torch here.
#include <string>
#include <vector>

#include "core/json.hpp"

namespace medforget {

struct BpeTrainOptions {
  int vocab_size = 2000;   // base alphabet + merges (special tokens come on top)
  int min_frequency = 2;   // a pair seen fewer times is never merged
};

// Deterministic: the same texts and options give the same file. Merges are taken
// most frequent first, ties broken by the pair's text. Error when vocab_size is
// smaller than the 256-character alphabet or the texts are all empty.
Json train_byte_level_bpe(const std::vector<std::string>& texts, const BpeTrainOptions& opt,
                          const std::vector<std::string>& special_tokens);

// Qwen2's pre-tokenizer and normalizer fields, for files medforget writes.
Json qwen2_pre_tokenizer_json();

}  // namespace medforget
