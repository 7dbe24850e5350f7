#include "data/tasks.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/error.hpp"

namespace medforget {

std::string ClozeSpan::text() const { return source.substr(pos, len); }

std::string normalize_text(const std::string& s) {
  std::string o;
  bool space = false;
  for (unsigned char c : s) {
    if (std::isalnum(c)) {
      if (space && !o.empty()) o += ' ';
      space = false;
      o += static_cast<char>(std::tolower(c));
    } else {
      space = true;
    }
  }
  return o;
}

namespace {

struct Lexicon {
  const char* category;
  std::vector<std::string> terms;  // longest first within a category is not required
};

const std::vector<Lexicon>& lexicons() {
  static const std::vector<Lexicon> L{
      {"device",
       {"endotracheal tube", "nasogastric tube", "enteric tube", "feeding tube", "central venous catheter",
        "central line", "picc line", "picc", "pacemaker", "pacer", "chest tube", "tracheostomy tube",
        "sternotomy wires", "surgical clips", "port-a-cath", "internal jugular", "orogastric tube"}},
      {"finding",
       {"pleural effusions", "pleural effusion", "effusion", "cardiomegaly", "pneumothorax", "consolidation",
        "pulmonary edema", "edema", "atelectasis", "opacity", "opacities", "nodule", "nodules", "mass",
        "pneumonia", "fracture", "fractures", "pleural thickening", "vascular congestion", "hyperinflation",
        "scarring", "granuloma", "infiltrate", "hilar", "cardiomediastinal silhouette", "mediastinum",
        "costophrenic angle", "emphysema", "lesion"}},
      {"severity", {"small", "moderate", "large", "mild", "severe", "trace", "minimal", "tiny", "extensive"}},
      {"laterality", {"left", "right", "bilateral", "bibasilar", "bibasal"}},
      {"indication",
       {"shortness of breath", "dyspnea", "fever", "cough", "chest pain", "hypoxia", "pneumonia", "preop",
        "line placement", "tube placement", "follow-up", "trauma", "weakness", "sepsis"}},
      {"exam", {"pa and lateral", "pa and lat", "portable", "ap", "pa", "lateral", "chest", "single view",
                "upright", "supine", "frontal"}},
  };
  return L;
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; }

std::string lower(const std::string& s) {
  std::string o = s;
  for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return o;
}

// All whole-word occurrences of `term` in `low` (lower-cased text).
void find_terms(const std::string& low, const std::string& term, std::vector<std::pair<size_t, size_t>>& out) {
  for (size_t p = low.find(term); p != std::string::npos; p = low.find(term, p + 1)) {
    size_t e = p + term.size();
    if ((p == 0 || !is_word_char(low[p - 1])) && (e == low.size() || !is_word_char(low[e])))
      out.emplace_back(p, term.size());
  }
}

const std::set<std::string>& stopwords() {
  static const std::set<std::string> s{"the", "and", "with", "there", "this", "that", "from", "were", "have",
                                       "been", "which", "without", "than", "since", "into", "within", "seen",
                                       "noted", "study", "prior", "compared", "there", "these", "those"};
  return s;
}

}  // namespace

bool has_task_content(const std::string& section_text) {
  return std::any_of(section_text.begin(), section_text.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

ClozeSpan pick_cloze_span(const std::string& text, Rng& rng) {
  std::string low = lower(text);
  // The first category (in lexicon priority order) with a hit wins; within it
  // a hit is chosen at random, so sections of similar text blank different spans.
  for (const auto& lex : lexicons()) {
    std::vector<std::pair<size_t, size_t>> hits;
    for (const auto& t : lex.terms) find_terms(low, t, hits);
    // Drop hits nested inside a longer hit of the same category ("effusion" in "pleural effusion").
    std::vector<std::pair<size_t, size_t>> kept;
    for (const auto& h : hits) {
      bool nested = std::any_of(hits.begin(), hits.end(), [&](const auto& o) {
        return o != h && o.first <= h.first && h.first + h.second <= o.first + o.second;
      });
      if (!nested) kept.push_back(h);
    }
    if (kept.empty()) continue;
    std::sort(kept.begin(), kept.end());
    kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
    auto h = rng.pick(kept);
    return {h.first, h.second, lex.category, text};
  }
  std::vector<std::pair<size_t, size_t>> words;
  for (size_t i = 0; i < text.size();) {
    if (!std::isalpha(static_cast<unsigned char>(text[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
    if (j - i >= 4 && !stopwords().count(lower(text.substr(i, j - i)))) words.emplace_back(i, j - i);
    i = j;
  }
  if (words.empty()) {
    for (size_t i = 0; i < text.size(); ++i)
      if (std::isalnum(static_cast<unsigned char>(text[i]))) {
        size_t j = i;
        while (j < text.size() && std::isalnum(static_cast<unsigned char>(text[j]))) ++j;
        return {i, j - i, "word", text};
      }
    fail("cloze: section text '" + text + "' has no word to blank");
  }
  auto w = rng.pick(words);
  return {w.first, w.second, "word", text};
}

std::string blank_out(const std::string& text, const ClozeSpan& s) {
  return text.substr(0, s.pos) + "[blank]" + text.substr(s.pos + s.len);
}

std::vector<std::string> split_sentences(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    size_t a = cur.find_first_not_of(" \t\n");
    if (a != std::string::npos) {
      size_t b = cur.find_last_not_of(" \t\n");
      out.push_back(cur.substr(a, b - a + 1));
    }
    cur.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    cur += text[i];
    bool end = text[i] == '.' || text[i] == '\n';
    // "4.5 cm": a period between digits does not end a sentence.
    if (text[i] == '.' && i + 1 < text.size() && i > 0 && std::isdigit(static_cast<unsigned char>(text[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(text[i + 1])))
      end = false;
    if (end) flush();
  }
  flush();
  // Numbered impressions: "1." alone is not a sentence.
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](const std::string& s) { return normalize_text(s).size() < 3; }),
            out.end());
  return out;
}

static int salience(const std::string& sentence) {
  std::string low = lower(sentence);
  int score = 0;
  for (const auto& lex : lexicons()) {
    std::vector<std::pair<size_t, size_t>> hits;
    for (const auto& t : lex.terms) find_terms(low, t, hits);
    int w = std::string(lex.category) == "finding" || std::string(lex.category) == "device" ? 3 : 1;
    score += w * static_cast<int>(hits.size());
  }
  // Negated boilerplate ("No pneumothorax.") is shared by many reports: it
  // identifies nothing, so it makes a poor answer.
  if (low.rfind("no ", 0) == 0 || low.find("no acute") != std::string::npos) score -= 4;
  return score;
}

std::string classification_key(const std::string& section_text) {
  if (!has_task_content(section_text))
    fail("classification: section text '" + section_text + "' has no letter or digit to ask about");
  auto sentences = split_sentences(section_text);
  // Short fields are their own key; so is a text whose every sentence is too
  // short to count as one ("CP", "TB.", "1. 2.").
  if (section_text.size() <= 80 || sentences.size() <= 1) {
    const std::string& t = section_text;
    size_t a = t.find_first_not_of(" \t\n"), b = t.find_last_not_of(" \t\n");
    return t.substr(a, b - a + 1);
  }
  size_t best = 0;
  for (size_t i = 1; i < sentences.size(); ++i)
    if (salience(sentences[i]) > salience(sentences[best])) best = i;
  return sentences[best];
}

namespace {

// Whether distractor `n` (normalised) contains the correct key `key`
// (normalised). A short key ("cp", "tb", "a") counts only as whole words: as a
// substring it would occur in nearly every distractor ("a" in "pleural").
bool contains_key(const std::string& n, const std::string& key) {
  if (key.size() >= 4) return n.find(key) != std::string::npos;
  return (" " + n + " ").find(" " + key + " ") != std::string::npos;
}

}  // namespace

Choice make_choice(const std::string& correct, const std::string& section_text,
                   const std::vector<std::string>& pool, Rng& rng) {
  std::string norm_text = normalize_text(section_text);
  const std::string norm_correct = normalize_text(correct);
  std::set<std::string> used{norm_correct};
  std::vector<std::string> candidates = pool;
  rng.shuffle(candidates);
  std::vector<std::string> options{correct};
  for (const auto& c : candidates) {
    if (options.size() == 4) break;
    std::string n = normalize_text(c);
    if (n.empty() || used.count(n)) continue;
    if (norm_text.find(n) != std::string::npos) continue;  // would also be correct
    if (contains_key(n, norm_correct)) continue;
    used.insert(n);
    options.push_back(c);
  }
  if (options.size() < 4)
    fail("classification: only " + std::to_string(options.size() - 1) +
         " distinct distractors available for '" + correct + "' (need 3); the corpus is too small");
  rng.shuffle(options);
  int idx = static_cast<int>(std::find(options.begin(), options.end(), correct) - options.begin());
  return {options, idx};
}

}  // namespace medforget
