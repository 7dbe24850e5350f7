#include "text/bpe_tokenizer.hpp"

#include <unicode/uchar.h>

#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "core/error.hpp"
#include "core/json.hpp"
#include "text/bpe_model.hpp"
#include "text/bpe_stages.hpp"

namespace medforget {

using bpe::FieldRef;

namespace {

// ---- added-token matching (tokenizer/added_vocabulary.rs) -----------------------

// A byte trie over the added tokens' contents, searched leftmost-longest as the
// Aho-Corasick automaton Hugging Face builds (MatchKind::LeftmostLongest).
class TokenTrie {
 public:
  bool empty() const { return nodes_.size() == 1; }
  void insert(std::string_view s, int token) {
    int n = 0;
    for (unsigned char c : s) {
      auto it = nodes_[static_cast<size_t>(n)].next.find(c);
      if (it == nodes_[static_cast<size_t>(n)].next.end()) {
        nodes_.push_back(Node{});
        it = nodes_[static_cast<size_t>(n)]
                 .next.emplace(c, static_cast<int>(nodes_.size() - 1))
                 .first;
      }
      n = it->second;
    }
    nodes_[static_cast<size_t>(n)].token = token;
    first_[static_cast<unsigned char>(s[0])] = true;
  }
  struct Match {
    size_t begin = 0, end = 0;
    int token = -1;  // index into the added tokens; -1: no match
  };
  // The leftmost match starting at or after `from`, the longest one at its start.
  Match find(std::string_view text, size_t from) const {
    for (size_t i = from; i < text.size(); ++i) {
      if (!first_[static_cast<unsigned char>(text[i])]) continue;
      Match best;
      int n = 0;
      for (size_t j = i; j < text.size(); ++j) {
        const auto& next = nodes_[static_cast<size_t>(n)].next;
        auto it = next.find(static_cast<unsigned char>(text[j]));
        if (it == next.end()) break;
        n = it->second;
        if (nodes_[static_cast<size_t>(n)].token >= 0)
          best = Match{i, j + 1, nodes_[static_cast<size_t>(n)].token};
      }
      if (best.token >= 0) return best;
    }
    return Match{};
  }

 private:
  struct Node {
    std::map<unsigned char, int> next;
    int token = -1;  // index into the added tokens
  };
  std::vector<Node> nodes_{Node{}};
  std::array<bool, 256> first_{};
};

uint32_t decode_at(std::string_view s, size_t i) {  // code point of the valid UTF-8 sequence at i
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + i;
  if (p[0] < 0x80) return p[0];
  if ((p[0] & 0xE0) == 0xC0) return ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
  if ((p[0] & 0xF0) == 0xE0) return ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
  return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
}
size_t prev_char(std::string_view s, size_t i) {  // start of the character ending at i (> 0)
  do --i;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80);
  return i;
}
size_t char_len(std::string_view s, size_t i) {
  const unsigned char b = static_cast<unsigned char>(s[i]);
  return b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
}
// Rust regex's Unicode \w and \s.
bool is_word_char(uint32_t c) {
  const auto cp = static_cast<UChar32>(c);
  if (u_hasBinaryProperty(cp, UCHAR_ALPHABETIC) || u_hasBinaryProperty(cp, UCHAR_JOIN_CONTROL))
    return true;
  const int8_t t = u_charType(cp);
  return t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK || t == U_COMBINING_SPACING_MARK ||
         t == U_DECIMAL_DIGIT_NUMBER || t == U_CONNECTOR_PUNCTUATION;
}
bool is_space(uint32_t c) {
  return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_WHITE_SPACE);
}

struct Segment {
  size_t begin, end;
  int token;  // index into the added tokens, or -1 for text
};

}  // namespace

struct BpeTokenizer::Impl {
  std::filesystem::path path;
  std::unique_ptr<BpeModel> model;
  bpe::Normalizer normalizer;
  bpe::PreTokenizer pre_tokenizer;
  bpe::Decoder decoder;
  std::vector<BpeAddedToken> added;  // id order
  std::vector<std::string>
      added_match;  // what each added token matches (normalized content when normalized)
  std::unordered_map<int, size_t> added_by_id;
  std::unordered_map<std::string, size_t> added_by_content;
  TokenTrie raw_trie, normalized_trie;
  int vocab_size = 0;

  // AddedVocabulary::find_matches: the whole of `s` as text runs and added tokens.
  std::vector<Segment> find_added(std::string_view s, const TokenTrie& trie,
                                  bool parse_special) const;
  void encode_text(std::string_view segment, std::vector<int>& ids) const;
};

std::vector<Segment> BpeTokenizer::Impl::find_added(std::string_view s, const TokenTrie& trie,
                                                    bool parse_special) const {
  std::vector<Segment> out;
  if (trie.empty()) {
    out.push_back(Segment{0, s.size(), -1});
    return out;
  }
  size_t done = 0, from = 0;
  while (from < s.size()) {
    const TokenTrie::Match match = trie.find(s, from);
    if (match.token < 0) break;
    size_t start = match.begin, stop = match.end;
    from = stop;  // the next match is searched after this one, taken or not
    const BpeAddedToken& t = added[static_cast<size_t>(match.token)];
    if (!parse_special && t.special) continue;
    if (t.single_word) {
      const bool start_space = start == 0 || !is_word_char(decode_at(s, prev_char(s, start)));
      const bool stop_space = stop == s.size() || !is_word_char(decode_at(s, stop));
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {  // take the whitespace run before the token, not reaching into an earlier match
      size_t ns = start;
      while (ns > 0) {
        const size_t p = prev_char(s, ns);
        if (!is_space(decode_at(s, p))) break;
        ns = p;
      }
      start = std::max(ns, done);
    }
    if (t.rstrip)
      while (stop < s.size() && is_space(decode_at(s, stop))) stop += char_len(s, stop);
    if (done < start) out.push_back(Segment{done, start, -1});
    out.push_back(Segment{start, stop, match.token});
    done = stop;
    from = std::max(from, stop);
  }
  if (done != s.size()) out.push_back(Segment{done, s.size(), -1});
  return out;
}

void BpeTokenizer::Impl::encode_text(std::string_view segment, std::vector<int>& ids) const {
  std::vector<std::string> words;
  pre_tokenizer.split(segment, words);
  for (const std::string& w : words) model->tokenize(w, ids);
}

BpeTokenizer::BpeTokenizer() = default;
BpeTokenizer::~BpeTokenizer() = default;
BpeTokenizer::BpeTokenizer(BpeTokenizer&&) noexcept = default;
BpeTokenizer& BpeTokenizer::operator=(BpeTokenizer&&) noexcept = default;

std::vector<int> BpeTokenizer::encode(std::string_view text, bool parse_special) const {
  if (!impl_) fail("BpeTokenizer: encode on a tokenizer that was not loaded");
  if (size_t bad = bpe::first_invalid_utf8(text); bad != std::string_view::npos)
    fail(impl_->path.string() + ": cannot encode text that is not valid UTF-8 (byte " +
         std::to_string(bad) + ")");
  std::vector<int> ids;
  ids.reserve(text.size() / 3 + 4);
  const Impl& m = *impl_;
  for (const Segment& raw : m.find_added(text, m.raw_trie, parse_special)) {
    if (raw.token >= 0) {
      ids.push_back(m.added[static_cast<size_t>(raw.token)].id);
      continue;
    }
    std::string norm(text.substr(raw.begin, raw.end - raw.begin));
    if (norm.empty()) continue;
    m.normalizer.apply(norm);
    for (const Segment& seg : m.find_added(norm, m.normalized_trie, parse_special)) {
      if (seg.token >= 0)
        ids.push_back(m.added[static_cast<size_t>(seg.token)].id);
      else
        m.encode_text(std::string_view(norm).substr(seg.begin, seg.end - seg.begin), ids);
    }
  }
  return ids;
}

std::string BpeTokenizer::decode(const std::vector<int>& ids, bool skip_special) const {
  if (!impl_) fail("BpeTokenizer: decode on a tokenizer that was not loaded");
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int id : ids) {
    if (auto it = impl_->added_by_id.find(id); it != impl_->added_by_id.end()) {
      if (skip_special && impl_->added[it->second].special) continue;
      tokens.push_back(impl_->added_match[it->second]);
    } else if (const std::string* t = impl_->model->id_to_token(id)) {
      tokens.push_back(*t);
    } else {
      fail(impl_->path.string() + ": cannot decode id " + std::to_string(id) +
           ": not in the vocabulary (" + std::to_string(impl_->vocab_size) + " ids)");
    }
  }
  return impl_->decoder.decode(std::move(tokens));
}

std::optional<int> BpeTokenizer::token_to_id(std::string_view token) const {
  if (auto it = impl_->added_by_content.find(std::string(token));
      it != impl_->added_by_content.end())
    return impl_->added[it->second].id;
  return impl_->model->token_to_id(token);
}

std::optional<std::string> BpeTokenizer::id_to_token(int id) const {
  if (auto it = impl_->added_by_id.find(id); it != impl_->added_by_id.end())
    return impl_->added[it->second].content;
  if (const std::string* t = impl_->model->id_to_token(id)) return *t;
  return std::nullopt;
}

int BpeTokenizer::vocab_size() const { return impl_->vocab_size; }

bool BpeTokenizer::is_special(int id) const {
  auto it = impl_->added_by_id.find(id);
  return it != impl_->added_by_id.end() && impl_->added[it->second].special;
}

const std::vector<BpeAddedToken>& BpeTokenizer::added_tokens() const { return impl_->added; }
const std::filesystem::path& BpeTokenizer::path() const { return impl_->path; }

// ---- loading ----------------------------------------------------------------------

namespace {

const Json& need(const Json& j, const char* key, const FieldRef& at) {
  auto it = j.find(key);
  if (it == j.end()) (at / key).fail("missing");
  return *it;
}
bool opt_bool(const Json& j, const char* key, const FieldRef& at, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    (at / key).fail("expected true or false, got " + std::string(it->type_name()));
  return it->get<bool>();
}
std::optional<std::string> opt_string(const Json& j, const char* key, const FieldRef& at) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string())
    (at / key).fail("expected a string or null, got " + std::string(it->type_name()));
  return it->get<std::string>();
}
int token_id(const Json& v, const FieldRef& at) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
    at.fail("expected a token id (an integer from 0 to 2147483647), got " + v.dump());
  return static_cast<int>(v.get<int64_t>());
}

std::unique_ptr<BpeModel> parse_model(const Json& j, const FieldRef& at) {
  if (!j.is_object()) at.fail("expected an object, got " + std::string(j.type_name()));
  const Json& type = need(j, "type", at);
  if (!type.is_string() || type.get<std::string>() != "BPE")
    (at / "type").fail("expected \"BPE\" (byte-level BPE), got " + type.dump());
  const Json& vocab = need(j, "vocab", at);
  if (!vocab.is_object())
    (at / "vocab").fail("expected an object of token: id, got " + std::string(vocab.type_name()));
  TokenMap map;
  map.reserve(vocab.size());
  std::unordered_map<int, const std::string*> by_id;
  by_id.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const int id = token_id(it.value(), at / "vocab" / ("\"" + it.key() + "\""));
    auto [pos, fresh] = by_id.emplace(id, &it.key());
    if (!fresh)
      (at / "vocab")
          .fail("id " + std::to_string(id) + " is given to both \"" + *pos->second + "\" and \"" +
                it.key() + "\"");
    map.emplace(it.key(), id);
  }
  const Json& merges = need(j, "merges", at);
  if (!merges.is_array())
    (at / "merges").fail("expected an array, got " + std::string(merges.type_name()));
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(merges.size());
  for (size_t i = 0; i < merges.size(); ++i) {
    const Json& m = merges[i];
    if (m.is_string()) {  // "a b"
      const std::string& s = m.get_ref<const std::string&>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        (at / "merges")[i].fail("expected two tokens separated by one space, got \"" + s + "\"");
      pairs.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() &&
               m[1].is_string()) {  // ["a", "b"]
      pairs.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      (at / "merges")[i].fail("expected \"a b\" or [\"a\", \"b\"], got " + m.dump());
    }
  }
  if (auto it = j.find("dropout"); it != j.end() && !it->is_null()) {
    if (!it->is_number() || it->get<double>() < 0 || it->get<double>() > 1)
      (at / "dropout").fail("expected null or a number in [0, 1], got " + it->dump());
    if (it->get<double>() > 0)
      (at / "dropout")
          .fail("BPE dropout " + it->dump() + " is not supported: encoding here is deterministic");
  }
  BpeModelOptions opt;
  opt.unk_token = opt_string(j, "unk_token", at);
  opt.continuing_subword_prefix = opt_string(j, "continuing_subword_prefix", at).value_or("");
  opt.end_of_word_suffix = opt_string(j, "end_of_word_suffix", at).value_or("");
  opt.fuse_unk = opt_bool(j, "fuse_unk", at, false);
  opt.byte_fallback = opt_bool(j, "byte_fallback", at, false);
  opt.ignore_merges = opt_bool(j, "ignore_merges", at, false);
  return std::make_unique<BpeModel>(std::move(map), pairs, std::move(opt), at.file, at.field);
}

}  // namespace

BpeTokenizer BpeTokenizer::load(const std::filesystem::path& file) {
  const Json root = read_json(file);  // names the file when unreadable or malformed
  const FieldRef top{file.string(), ""};
  if (!root.is_object())
    top.fail("expected a JSON object (a tokenizer.json), got " + std::string(root.type_name()));
  if (auto it = root.find("version");
      it != root.end() && !(it->is_string() && it->get<std::string>() == "1.0"))
    (top / "version").fail("expected \"1.0\", got " + it->dump());
  if (auto it = root.find("truncation"); it != root.end() && !it->is_null())
    (top / "truncation").fail("truncation is not supported (expected null)");

  BpeTokenizer t;
  t.impl_ = std::make_unique<Impl>();
  Impl& m = *t.impl_;
  m.path = file;
  m.model = parse_model(need(root, "model", top), top / "model");
  m.normalizer = bpe::Normalizer::parse(root.value("normalizer", Json()), top / "normalizer");
  m.pre_tokenizer =
      bpe::PreTokenizer::parse(root.value("pre_tokenizer", Json()), top / "pre_tokenizer");
  m.decoder = bpe::Decoder::parse(root.value("decoder", Json()), top / "decoder");

  const Json added = root.value("added_tokens", Json::array());
  int next_id = static_cast<int>(m.model->size());
  std::unordered_set<std::string> listed;
  if (!added.is_array())
    (top / "added_tokens").fail("expected an array, got " + std::string(added.type_name()));
  for (size_t i = 0; i < added.size(); ++i) {
    const FieldRef at = (top / "added_tokens")[i];
    const Json& a = added[i];
    if (!a.is_object()) at.fail("expected an object, got " + std::string(a.type_name()));
    BpeAddedToken tok;
    tok.id = token_id(need(a, "id", at), at / "id");
    const Json& content = need(a, "content", at);
    if (!content.is_string() || content.get<std::string>().empty())
      (at / "content").fail("expected a non-empty string, got " + content.dump());
    tok.content = content.get<std::string>();
    if (!listed.insert(tok.content).second)
      (at / "content").fail("\"" + tok.content + "\" is listed twice");
    tok.special = opt_bool(a, "special", at, false);
    tok.single_word = opt_bool(a, "single_word", at, false);
    tok.lstrip = opt_bool(a, "lstrip", at, false);
    tok.rstrip = opt_bool(a, "rstrip", at, false);
    tok.normalized = opt_bool(a, "normalized", at, !tok.special);
    // Hugging Face gives an added token the model's id for the same content, else the
    // next id from the model's size in file order, whatever the file says (and only
    // warns); a file that disagrees would encode differently here and there.
    int expected;
    if (auto vid = m.model->token_to_id(tok.content))
      expected = *vid;
    else
      expected = next_id++;
    if (tok.id != expected)
      (at / "id").fail("\"" + tok.content + "\" has id " + std::to_string(tok.id) +
                       ", but Hugging Face's tokenizers gives it " + std::to_string(expected) +
                       (m.model->token_to_id(tok.content)
                            ? " (its id in model.vocab)"
                            : " (the next id after model.vocab and the added tokens before it)"));
    if (const std::string* other = m.model->id_to_token(tok.id); other && *other != tok.content)
      (at / "id").fail("id " + std::to_string(tok.id) + " is \"" + *other +
                       "\" in model.vocab, not \"" + tok.content + "\"");
    m.added.push_back(std::move(tok));
  }
  std::sort(m.added.begin(), m.added.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  m.vocab_size = static_cast<int>(m.model->size());
  for (size_t i = 0; i < m.added.size(); ++i) {
    const BpeAddedToken& tok = m.added[i];
    if (i > 0 && m.added[i - 1].id == tok.id)
      (top / "added_tokens")
          .fail("id " + std::to_string(tok.id) + " is given to both \"" + m.added[i - 1].content +
                "\" and \"" + tok.content + "\"");
    m.added_by_content.emplace(tok.content, i);
    m.added_by_id.emplace(tok.id, i);
    if (!m.model->id_to_token(tok.id)) ++m.vocab_size;
    std::string match = tok.content;
    if (tok.normalized) m.normalizer.apply(match);
    (tok.normalized ? m.normalized_trie : m.raw_trie).insert(match, static_cast<int>(i));
    m.added_match.push_back(std::move(match));
  }
  return t;
}

}  // namespace medforget
