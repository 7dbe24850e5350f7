#include "text/bpe_trainer.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <unordered_map>

#include "core/error.hpp"
#include "text/bpe_stages.hpp"

namespace medforget {

namespace {

constexpr const char* kQwen2Split =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

Json byte_level() {
  return Json{{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
}

// Splits a byte-level word into its characters (each stands for one byte).
std::vector<std::string> chars_of(const std::string& word) {
  std::vector<std::string> out;
  for (size_t i = 0; i < word.size();) {
    const auto c = static_cast<unsigned char>(word[i]);
    const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    out.push_back(word.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace

Json qwen2_pre_tokenizer_json() {
  return Json{{"type", "Sequence"},
              {"pretokenizers",
               Json::array({Json{{"type", "Split"},
                                 {"pattern", {{"Regex", kQwen2Split}}},
                                 {"behavior", "Isolated"},
                                 {"invert", false}},
                            byte_level()})}};
}

Json train_byte_level_bpe(const std::vector<std::string>& texts, const BpeTrainOptions& opt,
                          const std::vector<std::string>& special_tokens) {
  if (opt.vocab_size < 256)
    fail("tokenizer train: vocab_size " + std::to_string(opt.vocab_size) +
         " is smaller than the 256 byte characters every byte-level vocabulary holds");
  if (opt.min_frequency < 1) fail("tokenizer train: min_frequency must be at least 1");
  const Json pre = qwen2_pre_tokenizer_json();
  const Json norm = Json{{"type", "NFC"}};
  const bpe::FieldRef at{"(trainer)", "pre_tokenizer"};
  const auto normalizer = bpe::Normalizer::parse(norm, bpe::FieldRef{"(trainer)", "normalizer"});
  const auto pretok = bpe::PreTokenizer::parse(pre, at);

  // Word counts over the pre-tokenized texts.
  std::map<std::string, int64_t> counts;
  std::vector<std::string> words;
  for (const auto& t : texts) {
    if (bpe::first_invalid_utf8(t) != std::string::npos) fail("tokenizer train: a training text is not valid UTF-8");
    std::string s = t;
    normalizer.apply(s);
    words.clear();
    pretok.split(s, words);
    for (auto& w : words) ++counts[w];
  }
  if (counts.empty()) fail("tokenizer train: no training text (all texts empty)");

  // The alphabet: every byte's character, in byte order.
  std::vector<std::string> vocab(bpe::byte_to_char().begin(), bpe::byte_to_char().end());
  std::unordered_map<std::string, int> id_of;
  for (size_t i = 0; i < vocab.size(); ++i) id_of.emplace(vocab[i], static_cast<int>(i));
  struct Word {
    std::vector<int> sym;
    int64_t count;
  };
  std::vector<Word> corpus;
  corpus.reserve(counts.size());
  for (const auto& [w, n] : counts) {
    Word x{{}, n};
    for (const auto& c : chars_of(w)) x.sym.push_back(id_of.at(c));
    corpus.push_back(std::move(x));
  }

  Json merges = Json::array();
  while (static_cast<int>(vocab.size()) < opt.vocab_size) {
    std::unordered_map<uint64_t, int64_t> pairs;
    auto key = [](int x, int y) { return (static_cast<uint64_t>(static_cast<uint32_t>(x)) << 32) | static_cast<uint32_t>(y); };
    for (const auto& w : corpus)
      for (size_t i = 0; i + 1 < w.sym.size(); ++i) pairs[key(w.sym[i], w.sym[i + 1])] += w.count;
    int a = -1, b = -1;
    int64_t best_n = 0;
    std::string best_text;
    for (const auto& [k, n] : pairs) {
      if (n < best_n || n < opt.min_frequency) continue;
      const int x = static_cast<int>(k >> 32), y = static_cast<int>(k & 0xffffffffu);
      std::string text = vocab[static_cast<size_t>(x)] + " " + vocab[static_cast<size_t>(y)];
      if (n > best_n || text < best_text) a = x, b = y, best_n = n, best_text = std::move(text);
    }
    if (a < 0) break;  // nothing frequent enough left: a smaller vocabulary than asked
    const std::string merged = vocab[static_cast<size_t>(a)] + vocab[static_cast<size_t>(b)];
    if (id_of.count(merged)) {  // the same string by another route: merge, no new token
      merges.push_back(best_text);
    } else {
      id_of.emplace(merged, static_cast<int>(vocab.size()));
      vocab.push_back(merged);
      merges.push_back(best_text);
    }
    const int m = id_of.at(merged);
    for (auto& w : corpus) {
      std::vector<int> out;
      out.reserve(w.sym.size());
      for (size_t i = 0; i < w.sym.size(); ++i) {
        if (i + 1 < w.sym.size() && w.sym[i] == a && w.sym[i + 1] == b) out.push_back(m), ++i;
        else out.push_back(w.sym[i]);
      }
      w.sym = std::move(out);
    }
  }

  Json v = Json::object();
  for (size_t i = 0; i < vocab.size(); ++i) v[vocab[i]] = static_cast<int>(i);
  Json added = Json::array();
  for (size_t i = 0; i < special_tokens.size(); ++i)
    added.push_back(Json{{"id", static_cast<int>(vocab.size() + i)},
                         {"content", special_tokens[i]},
                         {"single_word", false},
                         {"lstrip", false},
                         {"rstrip", false},
                         {"normalized", false},
                         {"special", true}});
  return Json{{"version", "1.0"},
              {"truncation", nullptr},
              {"padding", nullptr},
              {"added_tokens", added},
              {"normalizer", norm},
              {"pre_tokenizer", pre},
              {"post_processor", byte_level()},
              {"decoder", byte_level()},
              {"model",
               {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", nullptr},
                {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", ""},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", v},
                {"merges", merges}}}};
}

}  // namespace medforget
