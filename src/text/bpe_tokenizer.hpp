#pragma once
// A Hugging Face `tokenizer.json` tokenizer with a byte-level BPE model: Qwen2 and
// Qwen2.5(-VL), GPT-2 and their kin. Encoding follows the `tokenizers` library step by
// step: added tokens are cut out first (longest match, honouring special, lstrip,
// rstrip, single_word and normalized), each remaining segment is normalized (NFC with
// ICU), split by the pre-tokenizer (the file's Split regex, run by ICU; ByteLevel's
// byte-to-character mapping), and every word is merged by rank; decoding maps the
// tokens back to bytes (ByteLevel decoder). Checked id for id against the reference
// library on the real Qwen2.5 tokenizer (tests/text/bpe_tokenizer_test.cpp).
// Known differences, both outside the Unicode 15.0 that Debian's ICU 72 knows:
// characters first assigned in Unicode 15.1/16.0 (e.g. Egyptian Hieroglyphs
// Extended-A) are unassigned to ICU, so the regex's \p{L} and \p{N} do not match
// them, while Hugging Face's Oniguruma does; and Hugging Face's NFC reorders
// U+A82C before a following combining mark, against the standard (ICU and Python's
// unicodedata keep the order). 60,000 seeded random strings showed no other difference.
// Thread-safe after load. No torch here.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace medforget {

struct BpeAddedToken {
  int id = -1;
  std::string content;
  bool special =
      false;  // skipped by decode(ids, skip_special = true); not parsed when parse_special = false
  bool lstrip = false;       // also takes the whitespace on its left
  bool rstrip = false;       // also takes the whitespace on its right
  bool single_word = false;  // only matches with no word character on either side
  bool normalized = true;    // matched in the normalized text instead of the raw text
};

class BpeTokenizer {
 public:
  BpeTokenizer();
  ~BpeTokenizer();
  BpeTokenizer(BpeTokenizer&&) noexcept;
  BpeTokenizer& operator=(BpeTokenizer&&) noexcept;

  // Reads a tokenizer.json. Errors (medforget::Error) name the file and the field:
  // unreadable or malformed JSON, a version other than "1.0", a model that is not
  // BPE, a missing or malformed vocab or merges, a merge naming a token outside the
  // vocabulary, an added token whose id disagrees with the vocabulary, an invalid
  // Split regex, an unsupported normalizer / pre-tokenizer / decoder, truncation,
  // BPE dropout (encoding here is deterministic).
  static BpeTokenizer load(const std::filesystem::path& tokenizer_json);

  // Token ids of `text` (UTF-8; invalid UTF-8 is an Error), as Hugging Face's
  // encode(text, add_special_tokens=False): the post-processor's template tokens
  // are never added. parse_special = false leaves special added tokens as plain
  // text (Hugging Face's split_special_tokens); non-special added tokens still match.
  std::vector<int> encode(std::string_view text, bool parse_special = true) const;
  // Text of `ids`; skip_special drops the special added tokens. Bytes that do not
  // form UTF-8 become U+FFFD. An id outside the vocabulary is an Error (Hugging
  // Face drops it silently).
  std::string decode(const std::vector<int>& ids, bool skip_special = false) const;

  std::optional<int> token_to_id(
      std::string_view token) const;  // added tokens first, then the model's
  std::optional<std::string> id_to_token(int id) const;
  // Number of distinct ids: the model's vocabulary plus the added tokens outside it
  // (len(tokenizer) in transformers; 151,665 for Qwen2.5).
  int vocab_size() const;
  bool is_special(int id) const;
  const std::vector<BpeAddedToken>& added_tokens() const;  // in id order
  const std::filesystem::path& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medforget
