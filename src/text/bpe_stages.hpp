#pragma once
// The text stages of a Hugging Face tokenizer.json around its BPE model, built from
// the file's "normalizer", "pre_tokenizer" and "decoder" fields and behaving as the
// `tokenizers` library does:
//   normalizers:    NFC, NFD, NFKC, NFKD (ICU), Sequence
//   pre-tokenizers: Split (ICU regex or literal; every split behaviour; invert),
//                   ByteLevel (add_prefix_space, use_regex), Sequence
//   decoders:       ByteLevel, ByteFallback, Fuse, Sequence; none = join with " "
// Regexes are compiled with ICU (Unicode properties, lookahead) with Oniguruma's line
// conventions: ^ and $ match at line ends and only "\n" ends a line. No torch here.
#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace medforget::bpe {

// Where a field of the file is, for errors: "FILE: field 'pre_tokenizer.pretokenizers[0].pattern'".
struct FieldRef {
  std::string file;
  std::string field;
  FieldRef operator/(const std::string& key) const;  // field + "." + key
  FieldRef operator[](size_t i) const;               // field + "[i]"
  std::string str() const;
  [[noreturn]] void fail(const std::string& what) const;
};

// ---- UTF-8 ----
// Byte offset of the first invalid UTF-8 sequence, or npos.
size_t first_invalid_utf8(std::string_view s);
// Invalid sequences become U+FFFD, one per maximal invalid subpart (Rust's from_utf8_lossy).
std::string utf8_lossy(std::string_view bytes);

// ---- byte level (GPT-2's bytes_to_unicode) ----
const std::array<std::string, 256>&
byte_to_char();  // UTF-8 of the character standing for each byte
void append_byte_level(std::string_view s, std::string& out);  // every byte of s as its character
// The bytes of a token all of whose characters stand for bytes; false (and `out`
// untouched) when one does not.
bool byte_level_to_bytes(std::string_view token, std::string& out);

// ---- normalizer ----
class Normalizer {
 public:
  static Normalizer parse(const Json& j, const FieldRef& at);  // null: identity
  bool empty() const { return steps_.empty(); }
  void apply(std::string& s) const;

 private:
  std::vector<const void*> steps_;  // icu::Normalizer2*, owned by ICU
};

// ---- pre-tokenizer ----
class PreTokenizer {
 public:
  static PreTokenizer parse(const Json& j, const FieldRef& at);  // null: the whole text is one word
  PreTokenizer();
  ~PreTokenizer();
  PreTokenizer(PreTokenizer&&) noexcept;
  PreTokenizer& operator=(PreTokenizer&&) noexcept;
  // Splits one (normalized) segment into the words the model sees; empty words are dropped.
  void split(std::string_view segment, std::vector<std::string>& words) const;

 private:
  struct Step;
  std::vector<std::unique_ptr<Step>> steps_;
};

// ---- decoder ----
class Decoder {
 public:
  static Decoder parse(const Json& j, const FieldRef& at);  // null: tokens joined with " "
  std::string decode(std::vector<std::string> tokens) const;

 private:
  enum class Kind { ByteLevel, ByteFallback, Fuse };
  std::vector<Kind> steps_;
  bool none_ = true;
};

}  // namespace medforget::bpe
