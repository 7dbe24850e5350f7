#include "text/bpe_model.hpp"

#include <cstdio>
#include <mutex>
#include <queue>

#include "core/error.hpp"

namespace medforget {

namespace {

uint64_t pair_key(int a, int b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// Bytes in the UTF-8 sequence that starts with `lead` (the words given to the model
// are valid UTF-8: the tokenizer checks its input).
size_t utf8_seq_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

}  // namespace

BpeModel::BpeModel(TokenMap vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeModelOptions options, const std::string& file, const std::string& field)
    : vocab_(std::move(vocab)), opt_(std::move(options)) {
  const std::string where = medforget::where(file, 0, field + ".merges");
  int max_id = -1;
  for (const auto& [tok, id] : vocab_) max_id = std::max(max_id, id);
  vocab_r_.assign(static_cast<size_t>(max_id + 1), std::string());
  has_id_.assign(static_cast<size_t>(max_id + 1), false);
  for (const auto& [tok, id] : vocab_) {
    vocab_r_[static_cast<size_t>(id)] = tok;
    has_id_[static_cast<size_t>(id)] = true;
  }
  // A merge (a, b) joins a and b, minus b's continuing-subword prefix, as Hugging Face does.
  merges_.reserve(merges.size());
  const size_t prefix_len = opt_.continuing_subword_prefix.size();
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto ia = vocab_.find(a), ib = vocab_.find(b);
    const std::string at = " (merge " + std::to_string(rank) + ": \"" + a + "\" \"" + b + "\")";
    if (ia == vocab_.end()) fail(where + at + ": token \"" + a + "\" is not in the vocabulary");
    if (ib == vocab_.end()) fail(where + at + ": token \"" + b + "\" is not in the vocabulary");
    if (b.size() < prefix_len)
      fail(where + at + ": \"" + b + "\" is shorter than continuing_subword_prefix");
    std::string joined = a + b.substr(prefix_len);
    auto ij = vocab_.find(joined);
    if (ij == vocab_.end())
      fail(where + at + ": the merged token \"" + joined + "\" is not in the vocabulary");
    // A repeated pair takes its last rank, as a Hugging Face merge map built in order does.
    merges_[pair_key(ia->second, ib->second)] = Merge{static_cast<uint32_t>(rank), ij->second};
  }
  for (int b = 0; b < 256; ++b) {
    char code[8];
    std::snprintf(code, sizeof code, "<0x%02X>", b);
    auto it = vocab_.find(std::string_view(code));
    byte_ids_[b] = it == vocab_.end() ? -1 : it->second;
  }
  if (opt_.unk_token) {
    auto it = vocab_.find(*opt_.unk_token);
    if (it == vocab_.end())
      fail(medforget::where(file, 0, field + ".unk_token") + ": \"" + *opt_.unk_token +
           "\" is not in the vocabulary");
    unk_id_ = it->second;
  }
}

std::optional<int> BpeModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_r_.size() || !has_id_[static_cast<size_t>(id)])
    return nullptr;
  return &vocab_r_[static_cast<size_t>(id)];
}

const BpeModel::Merge* BpeModel::find_merge(int a, int b) const {
  auto it = merges_.find(pair_key(a, b));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::tokenize(std::string_view word, std::vector<int>& out) const {
  if (word.empty()) return;
  if (opt_.ignore_merges) {
    if (auto it = vocab_.find(word); it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  {
    std::shared_lock lock(cache_mu_);
    if (auto it = cache_.find(word); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t start = out.size();
  merge_word(word, out);
  if (word.size() < kCacheMaxWordBytes) {
    std::unique_lock lock(cache_mu_);
    if (cache_.size() < kCacheCapacity)
      cache_.emplace(std::string(word), std::vector<int>(out.begin() + start, out.end()));
  }
}

// models/bpe/model.rs merge_word + word.rs merge_all: the word's characters become
// symbols (vocabulary ids, else byte-fallback tokens, else the unk token, else
// nothing), then the adjacent pair of lowest merge rank (leftmost on ties) is merged
// until no pair has a merge.
void BpeModel::merge_word(std::string_view w, std::vector<int>& out) const {
  struct Symbol {
    int c, prev, next;
    size_t len;
  };
  std::vector<Symbol> sym;
  sym.reserve(w.size());
  auto add = [&](int c, size_t len) {
    const int n = static_cast<int>(sym.size());
    if (n > 0) sym.back().next = n;
    sym.push_back(Symbol{c, n - 1, -1, len});
  };
  bool have_unk = false;
  size_t unk_len = 0;
  std::string buf;
  for (size_t i = 0; i < w.size();) {
    const size_t n = std::min(utf8_seq_len(static_cast<unsigned char>(w[i])), w.size() - i);
    const bool first = i == 0, last = i + n >= w.size();
    std::string_view s = w.substr(i, n);
    if ((!first && !opt_.continuing_subword_prefix.empty()) ||
        (last && !opt_.end_of_word_suffix.empty())) {
      buf.clear();
      if (!first) buf += opt_.continuing_subword_prefix;
      buf += s;
      if (last) buf += opt_.end_of_word_suffix;
      s = buf;
    }
    i += n;
    if (auto it = vocab_.find(s); it != vocab_.end()) {
      if (have_unk) add(unk_id_, unk_len), have_unk = false;
      add(it->second, n);
      continue;
    }
    if (opt_.byte_fallback) {
      bool all = true;
      for (unsigned char b : s) all = all && byte_ids_[b] >= 0;
      if (all) {
        for (unsigned char b : s) add(byte_ids_[b], 1);
        continue;
      }
    }
    if (unk_id_ >= 0) {
      if (have_unk && opt_.fuse_unk) {
        unk_len += n;
      } else {
        if (have_unk) add(unk_id_, unk_len);
        have_unk = true;
        unk_len = n;
      }
    }
    // Without an unk token, a character the vocabulary cannot spell is dropped (as Hugging Face
    // does).
  }
  if (have_unk) add(unk_id_, unk_len);

  struct Cand {
    uint32_t rank;
    int pos, new_id;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> queue;
  for (size_t i = 0; i + 1 < sym.size(); ++i)
    if (const Merge* m = find_merge(sym[i].c, sym[i + 1].c))
      queue.push(Cand{m->rank, static_cast<int>(i), m->new_id});
  while (!queue.empty()) {
    const Cand top = queue.top();
    queue.pop();
    Symbol& cur = sym[static_cast<size_t>(top.pos)];
    if (cur.len == 0 || cur.next == -1) continue;
    const size_t next_pos = static_cast<size_t>(cur.next);
    const Symbol right = sym[next_pos];
    const Merge* m = find_merge(cur.c, right.c);
    if (!m || m->new_id != top.new_id) continue;  // stale: a neighbour changed since it was queued
    cur.c = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    sym[next_pos].len = 0;
    if (right.next >= 0) sym[static_cast<size_t>(right.next)].prev = top.pos;
    if (cur.prev >= 0)
      if (const Merge* pm = find_merge(sym[static_cast<size_t>(cur.prev)].c, cur.c))
        queue.push(Cand{pm->rank, cur.prev, pm->new_id});
    if (cur.next >= 0)
      if (const Merge* nm = find_merge(cur.c, sym[static_cast<size_t>(cur.next)].c))
        queue.push(Cand{nm->rank, top.pos, nm->new_id});
  }
  for (const Symbol& s : sym)
    if (s.len != 0) out.push_back(s.c);
}

}  // namespace medforget
