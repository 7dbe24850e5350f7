#pragma once
// The BPE model of a Hugging Face tokenizer.json ("model": {"type": "BPE", ...}):
// vocabulary, ranked merges and the per-word merge loop, as the `tokenizers`
// library's models/bpe does it, with a bounded cache of merged words. No torch, no ICU.
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace medforget {

struct BpeModelOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;  // "" = none
  std::string end_of_word_suffix;         // "" = none
  bool fuse_unk = false;
  bool byte_fallback = false;  // a character outside the vocabulary becomes its <0xXX> byte tokens
  bool ignore_merges = false;  // a word that is itself in the vocabulary is one token
};

// Heterogeneous lookup: find(std::string_view) without building a std::string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int, StringHash, std::equal_to<>>;

class BpeModel {
 public:
  // `merges` in rank order (rank = index). Throws medforget::Error naming `file` and
  // the field (`field` + ".merges" / ".unk_token") when a merge names a token that is
  // not in the vocabulary or merges into one that is not, or the unk token is unknown.
  BpeModel(TokenMap vocab, const std::vector<std::pair<std::string, std::string>>& merges,
           BpeModelOptions options, const std::string& file, const std::string& field);
  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Ids of one pre-tokenized word (already byte-level mapped where the tokenizer
  // does that). Appends to `out`. Safe to call from several threads.
  void tokenize(std::string_view word, std::vector<int>& out) const;

  std::optional<int> token_to_id(std::string_view token) const;
  const std::string* id_to_token(int id) const;  // nullptr when unknown
  size_t size() const { return vocab_.size(); }
  int max_id() const { return static_cast<int>(vocab_r_.size()) - 1; }

  static constexpr size_t kCacheCapacity = 10000;  // words, as Hugging Face's default
  static constexpr size_t kCacheMaxWordBytes = 256;

 private:
  struct Merge {
    uint32_t rank;
    int new_id;
  };
  void merge_word(std::string_view word, std::vector<int>& out) const;
  const Merge* find_merge(int a, int b) const;

  TokenMap vocab_;
  std::vector<std::string> vocab_r_;  // id -> token; "" for ids without a token
  std::vector<bool> has_id_;
  std::unordered_map<uint64_t, Merge> merges_;
  BpeModelOptions opt_;
  int unk_id_ = -1;
  int byte_ids_[256];  // <0xXX> token ids for byte_fallback, -1 when absent

  mutable std::shared_mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int>, StringHash, std::equal_to<>> cache_;
};

}  // namespace medforget
