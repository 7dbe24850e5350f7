#include "eval/chexpert_labeler.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/error.hpp"
#include "eval/chexpert_lexicon.hpp"
#include "eval/rouge.hpp"

namespace medforget {

namespace {

using namespace chexpert;
using Sentence = std::vector<std::string>;  // lower-case tokens; "," stands for a comma
using Span = std::pair<size_t, size_t>;     // [begin, end) character offsets in the text
using Offsets = std::vector<Span>;          // per token of a Sentence

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// Sentences of `text`; `offsets`, when given, receives each token's span.
std::vector<Sentence> split_sentences(const std::string& text,
                                      std::vector<Offsets>* offsets = nullptr) {
  std::vector<Sentence> out(1);
  std::vector<Offsets> offs(1);
  std::string cur;
  size_t cur_begin = 0;
  auto push = [&](std::string tok, size_t b, size_t e) {
    out.back().push_back(std::move(tok));
    offs.back().push_back({b, e});
  };
  auto flush = [&](size_t end) {
    if (!cur.empty()) push(cur, cur_begin, end);
    cur.clear();
  };
  auto end_sentence = [&](size_t end) {
    flush(end);
    if (!out.back().empty()) {
      out.emplace_back();
      offs.emplace_back();
    }
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 128 && std::isalnum(c)) {
      if (cur.empty()) cur_begin = i;
      cur += static_cast<char>(std::tolower(c));
      continue;
    }
    switch (c) {
      case '.':
        // "4.5 cm" is one sentence.
        if (i > 0 && i + 1 < text.size() && is_digit(text[i - 1]) && is_digit(text[i + 1]))
          flush(i);
        else
          end_sentence(i);
        break;
      case ';':
      case '!':
      case '?':
      case ':':
        end_sentence(i);
        break;
      case ',':
        flush(i);
        push(",", i, i + 1);
        break;
      case '\n': {
        // A single newline is a wrapped line; a blank line ends the sentence.
        flush(i);
        size_t j = i + 1;
        while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r')) ++j;
        if (j < text.size() && text[j] == '\n') end_sentence(i);
        break;
      }
      default:
        flush(i);
    }
  }
  flush(text.size());
  if (out.back().empty()) {
    out.pop_back();
    offs.pop_back();
  }
  if (offsets) *offsets = std::move(offs);
  return out;
}

bool word_matches(const std::string& pat, const std::string& tok) {
  if (!pat.empty() && pat.back() == '*')
    return tok != "," && tok.compare(0, pat.size() - 1, pat, 0, pat.size() - 1) == 0 &&
           tok.size() >= pat.size() - 1;
  return tok == pat;
}

std::vector<std::string> split_words(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find(' ', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Length of the match of `pat` at position i of s, or 0.
size_t match_at(const std::vector<std::string>& pat, const Sentence& s, size_t i) {
  if (pat.empty() || i + pat.size() > s.size()) return 0;
  for (size_t k = 0; k < pat.size(); ++k)
    if (!word_matches(pat[k], s[i + k])) return 0;
  return pat.size();
}

struct Compiled {
  const Phrase* phrase;
  std::vector<std::string> words;
};

const std::vector<Compiled>& compiled_lexicon() {
  static const std::vector<Compiled> c = [] {
    std::vector<Compiled> v;
    for (const auto& p : lexicon()) {
      auto w = split_words(p.text);
      if (w.empty()) fail("chexpert lexicon: empty phrase");
      v.push_back({&p, std::move(w)});
    }
    return v;
  }();
  return c;
}

struct Item {
  const Phrase* ph;  // nullptr: a comma
  size_t b, e;       // token span [b, e)
};

// Longest-match segmentation of one sentence into lexicon items.
std::vector<Item> scan(const Sentence& s) {
  std::vector<Item> out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == ",") {
      out.push_back({nullptr, i, i + 1});
      ++i;
      continue;
    }
    const Compiled* best = nullptr;
    size_t len = 0;
    for (const auto& c : compiled_lexicon()) {
      size_t l = match_at(c.words, s, i);
      if (l > len) len = l, best = &c;
    }
    if (!best) {
      ++i;
      continue;
    }
    out.push_back({best->phrase, i, i + len});
    i += len;
  }
  return out;
}

enum class Qual { None, Abnormal, Normal, Uncertain };

Qual qualifier(const Attribute& a, const std::string& tok) {
  auto any = [&](const std::vector<std::string>& v) {
    return std::any_of(v.begin(), v.end(),
                       [&](const std::string& p) { return word_matches(p, tok); });
  };
  if (any(a.uncertain)) return Qual::Uncertain;
  if (any(a.normal)) return Qual::Normal;
  if (any(a.abnormal)) return Qual::Abnormal;
  return Qual::None;
}

struct QualHit {
  Qual q = Qual::None;
  size_t pos = 0;
};

// The nearest qualifier of a subject at [b, e); forward wins a tie.
QualHit find_qualifier(const Attribute& a, const Sentence& s, const std::vector<bool>& stop,
                       size_t b, size_t e) {
  QualHit fwd, back;
  size_t dfwd = 0, dback = 0;
  for (size_t t = e; t < s.size() && t < e + static_cast<size_t>(a.fwd); ++t) {
    if (stop[t]) break;
    if (Qual q = qualifier(a, s[t]); q != Qual::None) {
      fwd = {q, t};
      dfwd = t - e + 1;
      break;
    }
  }
  for (size_t k = 1; k <= static_cast<size_t>(a.back) && k <= b; ++k) {
    size_t t = b - k;
    if (stop[t]) break;
    if (Qual q = qualifier(a, s[t]); q != Qual::None) {
      back = {q, t};
      dback = k;
      break;
    }
  }
  if (fwd.q == Qual::None) return back;
  if (back.q == Qual::None) return fwd;
  return dback < dfwd ? back : fwd;
}

constexpr size_t kPostWindow = 8;  // tokens after a mention a post-trigger may start

// A label and the trigger item that gave it (none: Absent, or no trigger).
struct Cue {
  MentionLabel label = MentionLabel::Absent;
  const Item* trigger = nullptr;
};

// A post-trigger after the mention ending at span_e, in its clause.
Cue post_label(const std::vector<Item>& items, std::vector<bool>& used, size_t span_e,
               size_t n_tokens) {
  for (size_t j = 0; j < items.size(); ++j) {
    const Item& it = items[j];
    if (it.b < span_e) continue;
    if (it.b >= span_e + kPostWindow || !it.ph) break;
    switch (it.ph->cat) {
      case Cat::PostNeg:
      case Cat::BothNeg:
        used[j] = true;  // it negated this mention; it does not also scope forward
        return {MentionLabel::Negative, &it};
      case Cat::PostUnc:
      case Cat::BothUnc:
        return {MentionLabel::Uncertain, &it};
      case Cat::PreUnc:
        // "Atelectasis is likely." — a pre-trigger that ends the sentence looks back.
        return it.e == n_tokens ? Cue{MentionLabel::Uncertain, &it} : Cue{};
      case Cat::Breaker:
      case Cat::Pseudo:
      case Cat::PreNeg:
        return {};
      default:
        continue;  // mentions, subjects, blockers, clause verbs
    }
  }
  return {};
}

// The pre-trigger whose scope covers the mention starting at span_b.
Cue pre_label(const std::vector<Item>& items, const std::vector<bool>& used, size_t span_b) {
  for (size_t j = items.size(); j-- > 0;) {
    const Item& it = items[j];
    if (it.e > span_b || !it.ph) continue;  // commas keep the scope: lists
    switch (it.ph->cat) {
      case Cat::PreNeg:
        return {MentionLabel::Negative, &it};
      case Cat::BothNeg:
        return used[j] ? Cue{} : Cue{MentionLabel::Negative, &it};
      case Cat::PreUnc:
      case Cat::BothUnc:
        return {MentionLabel::Uncertain, &it};
      case Cat::Mention:
      case Cat::Other:
      case Cat::Subject:
      case Cat::Blocker:
        continue;
      default:
        return {};  // breakers, clause verbs, pseudo and post triggers
    }
  }
  return {};
}

bool is_negation(Cat c) { return c == Cat::PreNeg || c == Cat::PostNeg || c == Cat::BothNeg; }

std::string join(const Sentence& s, size_t b, size_t e) {
  std::string out;
  for (size_t t = b; t < e; ++t)
    if (s[t] != ",") out += (out.empty() ? "" : " ") + s[t];
  return out;
}

void sentence_mentions(const Sentence& s, const Offsets& offs, size_t si,
                       std::vector<Mention>& out) {
  auto items = scan(s);
  std::vector<bool> used(items.size(), false);
  std::vector<bool> stop(s.size(), false);
  for (size_t t = 0; t < s.size(); ++t) stop[t] = s[t] == ",";
  for (const auto& it : items)
    if (it.ph && it.ph->cat == Cat::Breaker)
      for (size_t t = it.b; t < it.e; ++t) stop[t] = true;

  for (const auto& it : items) {
    if (!it.ph) continue;
    Cat c = it.ph->cat;
    if (c != Cat::Mention && c != Cat::Other && c != Cat::Subject) continue;
    size_t b = it.b, e = it.e;
    MentionLabel label = MentionLabel::Absent;
    bool own_clause = false;  // "... and the heart size is enlarged": a predicate of its own
    if (c == Cat::Subject) {
      const Attribute& a = attributes().at(static_cast<size_t>(it.ph->attribute));
      QualHit h = find_qualifier(a, s, stop, b, e);
      if (h.q == Qual::None) continue;
      for (const auto& x : items)
        if (x.ph && x.ph->cat == Cat::ClauseVerb && x.b >= it.e && x.e <= h.pos) own_clause = true;
      b = std::min(b, h.pos);
      e = std::max(e, h.pos + 1);
      if (h.q == Qual::Normal) label = MentionLabel::Negative;
      if (h.q == Qual::Uncertain) label = MentionLabel::Uncertain;
      if (h.q == Qual::Abnormal) {
        // "The heart is not enlarged": the negation sits between subject and qualifier.
        for (size_t j = 0; j < items.size(); ++j)
          if (items[j].ph && is_negation(items[j].ph->cat) && items[j].b >= b && items[j].e <= e) {
            label = MentionLabel::Negative;
            used[j] = true;
          }
      }
    }
    Cue cue{label, nullptr};
    if (cue.label == MentionLabel::Absent) cue = post_label(items, used, e, s.size());
    if (cue.label == MentionLabel::Absent && !own_clause) cue = pre_label(items, used, b);
    if (cue.label == MentionLabel::Absent) cue.label = MentionLabel::Positive;
    // Evidence: the mention with the trigger that decided its label.
    const Item* t = cue.trigger;
    size_t eb = t ? std::min(b, t->b) : b, ee = t ? std::max(e, t->e) : e;
    Mention m{it.ph->obs, c == Cat::Other, cue.label,          join(s, b, e),
              si,         offs[eb].first,  offs[ee - 1].second};
    out.push_back(m);
    if (it.ph->heart_failure && cue.label != MentionLabel::Negative) {
      m.obs = Observation::Cardiomegaly;
      m.other = false;
      m.label = MentionLabel::Uncertain;
      out.push_back(m);
    }
  }
}

// CheXpert's aggregation order: Positive > Uncertain > Negative > Absent.
int rank(MentionLabel l) {
  static constexpr int r[] = {0, 3, 1, 2};  // Absent, Positive, Negative, Uncertain
  return r[static_cast<int>(l)];
}

// The first sentence stating normality ("Lungs are clear", "No acute
// process"), if any.
std::optional<Span> normality_statement(const std::vector<Sentence>& sents,
                                        const std::vector<Offsets>& offs) {
  static const std::vector<std::vector<std::string>> pats = [] {
    std::vector<std::vector<std::string>> v;
    for (const auto& p : normality_phrases()) v.push_back(split_words(p));
    return v;
  }();
  for (size_t k = 0; k < sents.size(); ++k)
    for (size_t i = 0; i < sents[k].size(); ++i)
      for (const auto& p : pats)
        if (match_at(p, sents[k], i)) return Span{offs[k].front().first, offs[k].back().second};
  return std::nullopt;
}

// The mentions of `text`, with each token's character span.
std::vector<Mention> mentions_of(const std::string& text, std::vector<Sentence>& sents,
                                 std::vector<Offsets>& offs) {
  sents = split_sentences(text, &offs);
  std::vector<Mention> ms;
  for (size_t i = 0; i < sents.size(); ++i) sentence_mentions(sents[i], offs[i], i, ms);
  return ms;
}

struct Labelled {
  ChexpertLabels labels;
  std::array<Span, kNumObservations> evidence{};  // of each label that is not Absent
};

// CheXpert's aggregation; the evidence of an observation is its first mention
// with the winning label.
Labelled aggregate(const std::string& text) {
  std::vector<Sentence> sents;
  std::vector<Offsets> offs;
  std::vector<Mention> ms = mentions_of(text, sents, offs);
  Labelled out;
  bool finding = false;
  for (const auto& m : ms) {
    bool asserted = m.label == MentionLabel::Positive || m.label == MentionLabel::Uncertain;
    if (asserted && (m.other || m.obs != Observation::SupportDevices)) finding = true;
    if (m.other) continue;
    if (rank(m.label) > rank(out.labels[m.obs])) {
      out.labels[m.obs] = m.label;
      out.evidence[static_cast<size_t>(m.obs)] = {m.begin, m.end};
    }
  }
  if (finding) return out;
  // No Finding: the sentence stating normality, else the first (negated) mention
  // that makes the text a clinical statement.
  std::optional<Span> normal = normality_statement(sents, offs);
  if (!normal && ms.empty()) return out;
  out.labels[Observation::NoFinding] = MentionLabel::Positive;
  out.evidence[static_cast<size_t>(Observation::NoFinding)] =
      normal ? *normal : Span{ms.front().begin, ms.front().end};
  return out;
}

}  // namespace

std::string mention_label_name(MentionLabel l) {
  static const char* const names[] = {"absent", "positive", "negative", "uncertain"};
  auto i = static_cast<size_t>(l);
  if (i >= 4) fail("mention label: enum value " + std::to_string(i) + " out of range");
  return names[i];
}

bool ChexpertLabels::any_mentioned() const {
  return std::any_of(labels.begin(), labels.end(),
                     [](MentionLabel l) { return l != MentionLabel::Absent; });
}

Json ChexpertLabels::to_json() const {
  Json j = Json::object();
  for (Observation o : all_observations())
    if ((*this)[o] != MentionLabel::Absent) j[observation_key(o)] = mention_label_name((*this)[o]);
  return j;
}

std::vector<Mention> find_mentions(const std::string& text) {
  std::vector<Sentence> sents;
  std::vector<Offsets> offs;
  return mentions_of(text, sents, offs);
}

ChexpertLabels label_report(const std::string& text) { return aggregate(text).labels; }

std::vector<FindingEvidence> label_evidence(const std::string& text) {
  Labelled l = aggregate(text);
  std::vector<FindingEvidence> out;
  for (Observation o : all_observations()) {
    if (l.labels[o] == MentionLabel::Absent) continue;
    auto [b, e] = l.evidence[static_cast<size_t>(o)];
    out.push_back({o, l.labels[o], b, e, text.substr(b, e - b)});
  }
  return out;
}

std::vector<std::string> key_terms(const std::string& text) {
  static const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> folds =
      [] {
        std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> v;
        for (const auto& [from, to] : key_term_folds())
          v.emplace_back(split_words(from), split_words(to));
        return v;
      }();
  const auto& stop = key_term_stop_words();
  auto toks = rouge_tokenize(text);
  std::vector<std::string> out;
  for (size_t i = 0; i < toks.size();) {
    size_t len = 0;
    const std::vector<std::string>* repl = nullptr;
    for (const auto& [from, to] : folds) {
      size_t l = match_at(from, toks, i);
      if (l > len) len = l, repl = &to;
    }
    std::vector<std::string> words = repl ? *repl : std::vector<std::string>{toks[i]};
    i += repl ? len : 1;
    for (auto& w : words)
      if (std::find(stop.begin(), stop.end(), w) == stop.end()) out.push_back(std::move(w));
  }
  return out;
}

}  // namespace medforget
