#include "text/bpe_stages.hpp"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/regex.h>
#include <unicode/unistr.h>
#include <unicode/utypes.h>

#include <algorithm>
#include <cctype>

#include "core/error.hpp"

namespace medforget::bpe {

// ---- FieldRef -------------------------------------------------------------------

FieldRef FieldRef::operator/(const std::string& key) const {
  return FieldRef{file, field.empty() ? key : field + "." + key};
}
FieldRef FieldRef::operator[](size_t i) const {
  return FieldRef{file, field + "[" + std::to_string(i) + "]"};
}
std::string FieldRef::str() const { return where(file, 0, field); }
void FieldRef::fail(const std::string& what) const { medforget::fail(str() + ": " + what); }

namespace {

const Json& member(const Json& j, const char* key, const FieldRef& at) {
  if (!j.is_object()) at.fail("expected an object, got " + std::string(j.type_name()));
  auto it = j.find(key);
  if (it == j.end()) (at / key).fail("missing");
  return *it;
}
std::string string_member(const Json& j, const char* key, const FieldRef& at) {
  const Json& v = member(j, key, at);
  if (!v.is_string()) (at / key).fail("expected a string, got " + std::string(v.type_name()));
  return v.get<std::string>();
}
bool bool_member(const Json& j, const char* key, const FieldRef& at, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    (at / key).fail("expected true or false, got " + std::string(it->type_name()));
  return it->get<bool>();
}
const Json& array_member(const Json& j, const char* key, const FieldRef& at) {
  const Json& v = member(j, key, at);
  if (!v.is_array()) (at / key).fail("expected an array, got " + std::string(v.type_name()));
  return v;
}

// Bytes in the UTF-8 sequence starting with `lead` (input already validated).
size_t seq_len(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

// One UTF-8 sequence at p: true and its length, or false and the length of its
// maximal invalid subpart (at least 1), as Unicode's "substitution of maximal subparts".
bool utf8_step(const unsigned char* p, size_t n, size_t& len) {
  const unsigned char b = p[0];
  if (b < 0x80) {
    len = 1;
    return true;
  }
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b >= 0xC2 && b <= 0xDF)
    need = 1;
  else if (b == 0xE0)
    need = 2, lo = 0xA0;
  else if (b >= 0xE1 && b <= 0xEC)
    need = 2;
  else if (b == 0xED)
    need = 2, hi = 0x9F;
  else if (b >= 0xEE && b <= 0xEF)
    need = 2;
  else if (b == 0xF0)
    need = 3, lo = 0x90;
  else if (b >= 0xF1 && b <= 0xF3)
    need = 3;
  else if (b == 0xF4)
    need = 3, hi = 0x8F;
  else {
    len = 1;
    return false;
  }
  for (size_t i = 1; i <= need; ++i) {
    const unsigned char l = i == 1 ? lo : 0x80, h = i == 1 ? hi : 0xBF;
    if (i >= n || p[i] < l || p[i] > h) {
      len = i;
      return false;
    }
  }
  len = need + 1;
  return true;
}

struct ByteTables {
  std::array<std::string, 256> to_char;
  // Code point -> byte for the 256 stand-in characters (all below U+0144).
  std::array<int, 0x144> from_cp;
  ByteTables() {
    from_cp.fill(-1);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable =
          (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const int cp = printable ? b : 256 + n++;
      std::string& s = to_char[static_cast<size_t>(b)];
      if (cp < 0x80) {
        s.push_back(static_cast<char>(cp));
      } else {
        s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
      from_cp[static_cast<size_t>(cp)] = b;
    }
  }
};
const ByteTables& byte_tables() {
  static const ByteTables t;
  return t;
}

icu::StringPiece piece(std::string_view s) {
  return icu::StringPiece(s.data(), static_cast<int32_t>(s.size()));
}

}  // namespace

// ---- UTF-8 ----------------------------------------------------------------------

size_t first_invalid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0, len = 0; i < s.size(); i += len)
    if (!utf8_step(p + i, s.size() - i, len)) return i;
  return std::string_view::npos;
}

std::string utf8_lossy(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0, len = 0; i < bytes.size(); i += len) {
    if (utf8_step(p + i, bytes.size() - i, len))
      out.append(bytes.substr(i, len));
    else
      out.append("\xEF\xBF\xBD");
  }
  return out;
}

// ---- byte level -----------------------------------------------------------------

const std::array<std::string, 256>& byte_to_char() { return byte_tables().to_char; }

void append_byte_level(std::string_view s, std::string& out) {
  const auto& t = byte_tables().to_char;
  for (unsigned char b : s) out += t[b];
}

bool byte_level_to_bytes(std::string_view token, std::string& out) {
  const auto& from = byte_tables().from_cp;
  const size_t start = out.size();
  const auto* p = reinterpret_cast<const unsigned char*>(token.data());
  for (size_t i = 0; i < token.size();) {
    uint32_t cp;
    if (p[i] < 0x80) {
      cp = p[i];
      i += 1;
    } else if ((p[i] & 0xE0) == 0xC0 && i + 1 < token.size()) {
      cp = ((p[i] & 0x1Fu) << 6) | (p[i + 1] & 0x3Fu);
      i += 2;
    } else {
      out.resize(start);  // a character beyond U+07FF stands for no byte
      return false;
    }
    if (cp >= from.size() || from[cp] < 0) {
      out.resize(start);
      return false;
    }
    out.push_back(static_cast<char>(from[cp]));
  }
  return true;
}

// ---- normalizer -----------------------------------------------------------------

Normalizer Normalizer::parse(const Json& j, const FieldRef& at) {
  Normalizer n;
  if (j.is_null()) return n;
  const std::string type = string_member(j, "type", at);
  if (type == "Sequence") {
    const Json& list = array_member(j, "normalizers", at);
    for (size_t i = 0; i < list.size(); ++i) {
      Normalizer inner = parse(list[i], (at / "normalizers")[i]);
      n.steps_.insert(n.steps_.end(), inner.steps_.begin(), inner.steps_.end());
    }
    return n;
  }
  UErrorCode st = U_ZERO_ERROR;
  const icu::Normalizer2* norm = nullptr;
  if (type == "NFC")
    norm = icu::Normalizer2::getNFCInstance(st);
  else if (type == "NFD")
    norm = icu::Normalizer2::getNFDInstance(st);
  else if (type == "NFKC")
    norm = icu::Normalizer2::getNFKCInstance(st);
  else if (type == "NFKD")
    norm = icu::Normalizer2::getNFKDInstance(st);
  else
    (at / "type")
        .fail("unsupported normalizer \"" + type +
              "\" (supported: NFC, NFD, NFKC, NFKD, Sequence)");
  if (U_FAILURE(st))
    (at / "type")
        .fail(std::string("ICU cannot load the ") + type + " normalizer: " + u_errorName(st));
  n.steps_.push_back(norm);
  return n;
}

void Normalizer::apply(std::string& s) const {
  for (const void* step : steps_) {
    const auto* norm = static_cast<const icu::Normalizer2*>(step);
    UErrorCode st = U_ZERO_ERROR;
    if (norm->isNormalizedUTF8(piece(s), st) && U_SUCCESS(st)) continue;
    std::string out;
    icu::StringByteSink<std::string> sink(&out);
    st = U_ZERO_ERROR;
    norm->normalizeUTF8(0, piece(s), sink, nullptr, st);
    if (U_FAILURE(st)) fail(std::string("Unicode normalization failed: ") + u_errorName(st));
    s = std::move(out);
  }
}

// ---- pre-tokenizer --------------------------------------------------------------

namespace {
// pre_tokenizers/byte_level.rs: the GPT-2 word regex ByteLevel splits with when use_regex is set.
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

std::unique_ptr<icu::RegexPattern> compile(const std::string& pattern, bool literal,
                                           const FieldRef& at) {
  UErrorCode st = U_ZERO_ERROR;
  UParseError pe{};
  const uint32_t flags = literal ? UREGEX_LITERAL : (UREGEX_MULTILINE | UREGEX_UNIX_LINES);
  std::unique_ptr<icu::RegexPattern> re(
      icu::RegexPattern::compile(icu::UnicodeString::fromUTF8(piece(pattern)), flags, pe, st));
  if (U_FAILURE(st))
    at.fail("invalid regex (" + std::string(u_errorName(st)) + " at offset " +
            std::to_string(pe.offset) + "): " + pattern);
  return re;
}
}  // namespace

struct PreTokenizer::Step {
  bool byte_level = false;
  // Split (also the GPT-2 split of ByteLevel with use_regex)
  std::unique_ptr<icu::RegexPattern> re;
  Behavior behavior = Behavior::Isolated;
  bool invert = false;
  // ByteLevel
  bool add_prefix_space = false;

  void run(std::string_view in, icu::RegexMatcher* m, std::vector<std::string>& out) const;
};

PreTokenizer::PreTokenizer() = default;
PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

PreTokenizer PreTokenizer::parse(const Json& j, const FieldRef& at) {
  PreTokenizer p;
  if (j.is_null()) return p;
  const std::string type = string_member(j, "type", at);
  if (type == "Sequence") {
    const Json& list = array_member(j, "pretokenizers", at);
    for (size_t i = 0; i < list.size(); ++i) {
      PreTokenizer inner = parse(list[i], (at / "pretokenizers")[i]);
      for (auto& s : inner.steps_) p.steps_.push_back(std::move(s));
    }
    return p;
  }
  auto step = std::make_unique<Step>();
  if (type == "Split") {
    const Json& pat = member(j, "pattern", at);
    const FieldRef pat_at = at / "pattern";
    bool literal;
    std::string text;
    if (pat.is_object() && pat.contains("Regex"))
      literal = false, text = string_member(pat, "Regex", pat_at);
    else if (pat.is_object() && pat.contains("String"))
      literal = true, text = string_member(pat, "String", pat_at);
    else
      pat_at.fail("expected {\"Regex\": ...} or {\"String\": ...}");
    step->re = compile(text, literal, pat_at / (literal ? "String" : "Regex"));
    const std::string b = string_member(j, "behavior", at);
    if (b == "Removed")
      step->behavior = Behavior::Removed;
    else if (b == "Isolated")
      step->behavior = Behavior::Isolated;
    else if (b == "MergedWithPrevious")
      step->behavior = Behavior::MergedWithPrevious;
    else if (b == "MergedWithNext")
      step->behavior = Behavior::MergedWithNext;
    else if (b == "Contiguous")
      step->behavior = Behavior::Contiguous;
    else
      (at / "behavior").fail("unknown split behavior \"" + b + "\"");
    const Json& inv = member(j, "invert", at);
    if (!inv.is_boolean()) (at / "invert").fail("expected true or false");
    step->invert = inv.get<bool>();
  } else if (type == "ByteLevel") {
    step->byte_level = true;
    step->add_prefix_space = bool_member(j, "add_prefix_space", at, true);
    if (bool_member(j, "use_regex", at, true)) step->re = compile(kGpt2Pattern, false, at);
  } else {
    (at / "type")
        .fail("unsupported pre-tokenizer \"" + type + "\" (supported: Split, ByteLevel, Sequence)");
  }
  p.steps_.push_back(std::move(step));
  return p;
}

// normalizer.rs split + pattern.rs find_matches: the text is cut into matched and
// unmatched runs, which the behaviour keeps, drops or joins.
void PreTokenizer::Step::run(std::string_view in, icu::RegexMatcher* m,
                             std::vector<std::string>& out) const {
  std::string prefixed;
  if (byte_level && add_prefix_space && (in.empty() || in[0] != ' ')) {
    prefixed = " ";
    prefixed += in;
    in = prefixed;
  }
  struct Part {
    size_t begin, end;
    bool match;
  };
  std::vector<Part> parts;
  if (!m) {
    parts.push_back(Part{0, in.size(), false});
  } else {
    const icu::UnicodeString u = icu::UnicodeString::fromUTF8(piece(in));
    m->reset(u);
    UErrorCode st = U_ZERO_ERROR;
    int32_t at16 = 0;
    size_t at8 = 0, prev = 0;
    auto to8 = [&](int32_t target16) {  // UTF-16 index -> byte offset, moving forward only
      while (at16 < target16) {
        const size_t n = seq_len(static_cast<unsigned char>(in[at8]));
        at8 += n;
        at16 += n == 4 ? 2 : 1;
      }
      return at8;
    };
    while (m->find(st) && U_SUCCESS(st)) {
      const size_t s = to8(m->start(st)), e = to8(m->end(st));
      if (prev != s) parts.push_back(Part{prev, s, false});
      parts.push_back(Part{s, e, true});
      prev = e;
    }
    if (U_FAILURE(st)) fail(std::string("regex matching failed: ") + u_errorName(st));
    if (prev != in.size()) parts.push_back(Part{prev, in.size(), false});
    if (invert)
      for (Part& p : parts) p.match = !p.match;
  }
  // (begin, end) runs to keep, after the behaviour.
  std::vector<std::pair<size_t, size_t>> keep;
  bool previous_match = false;
  switch (byte_level ? Behavior::Isolated : behavior) {
    case Behavior::Isolated:
      for (const Part& p : parts) keep.emplace_back(p.begin, p.end);
      break;
    case Behavior::Removed:
      for (const Part& p : parts)
        if (!p.match) keep.emplace_back(p.begin, p.end);
      break;
    case Behavior::Contiguous:
      for (const Part& p : parts) {
        if (p.match == previous_match && !keep.empty())
          keep.back().second = p.end;
        else
          keep.emplace_back(p.begin, p.end);
        previous_match = p.match;
      }
      break;
    case Behavior::MergedWithPrevious:
      for (const Part& p : parts) {
        if (p.match && !previous_match && !keep.empty())
          keep.back().second = p.end;
        else
          keep.emplace_back(p.begin, p.end);
        previous_match = p.match;
      }
      break;
    case Behavior::MergedWithNext:
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (it->match && !previous_match && !keep.empty())
          keep.back().first = it->begin;
        else
          keep.emplace_back(it->begin, it->end);
        previous_match = it->match;
      }
      std::reverse(keep.begin(), keep.end());
      break;
  }
  for (const auto& [b, e] : keep) {
    if (b == e) continue;
    if (byte_level) {
      std::string mapped;
      mapped.reserve((e - b) * 2);
      append_byte_level(in.substr(b, e - b), mapped);
      out.push_back(std::move(mapped));
    } else {
      out.emplace_back(in.substr(b, e - b));
    }
  }
}

void PreTokenizer::split(std::string_view segment, std::vector<std::string>& words) const {
  if (segment.empty()) return;
  if (steps_.empty()) {
    words.emplace_back(segment);
    return;
  }
  std::vector<std::string> cur{std::string(segment)}, next;
  for (const auto& step : steps_) {
    std::unique_ptr<icu::RegexMatcher> m;
    if (step->re) {
      UErrorCode st = U_ZERO_ERROR;
      m.reset(step->re->matcher(st));
      // No cap on the backtracking stack: ICU's default (8 MB) overflows on long
      // whitespace runs, e.g. "\s+(?!\S)" over a million spaces.
      if (U_SUCCESS(st)) m->setStackLimit(0, st);
      if (U_FAILURE(st)) fail(std::string("cannot create a regex matcher: ") + u_errorName(st));
    }
    next.clear();
    for (const std::string& w : cur) step->run(w, m.get(), next);
    cur.swap(next);
  }
  for (std::string& w : cur) words.push_back(std::move(w));
}

// ---- decoder --------------------------------------------------------------------

Decoder Decoder::parse(const Json& j, const FieldRef& at) {
  Decoder d;
  if (j.is_null()) return d;
  d.none_ = false;
  const std::string type = string_member(j, "type", at);
  if (type == "Sequence") {
    const Json& list = array_member(j, "decoders", at);
    for (size_t i = 0; i < list.size(); ++i) {
      Decoder inner = parse(list[i], (at / "decoders")[i]);
      d.steps_.insert(d.steps_.end(), inner.steps_.begin(), inner.steps_.end());
    }
  } else if (type == "ByteLevel") {
    d.steps_.push_back(Kind::ByteLevel);
  } else if (type == "ByteFallback") {
    d.steps_.push_back(Kind::ByteFallback);
  } else if (type == "Fuse") {
    d.steps_.push_back(Kind::Fuse);
  } else {
    (at / "type")
        .fail("unsupported decoder \"" + type +
              "\" (supported: ByteLevel, ByteFallback, Fuse, Sequence)");
  }
  return d;
}

std::string Decoder::decode(std::vector<std::string> tokens) const {
  std::string joined;
  if (none_) {
    for (size_t i = 0; i < tokens.size(); ++i) joined += (i ? " " : "") + tokens[i];
    return joined;
  }
  for (Kind k : steps_) {
    std::vector<std::string> next;
    if (k == Kind::ByteLevel) {  // decoders: ByteLevel::decode_chain
      std::string bytes;
      for (const std::string& t : tokens)
        if (!byte_level_to_bytes(t, bytes)) bytes += t;
      next.push_back(utf8_lossy(bytes));
    } else if (k == Kind::ByteFallback) {  // <0xXX> runs become text, or one U+FFFD per byte
      std::string run;
      size_t run_len = 0;
      auto flush = [&] {
        if (run_len == 0) return;
        if (first_invalid_utf8(run) == std::string_view::npos) {
          next.push_back(run);
        } else {
          for (size_t i = 0; i < run_len; ++i) next.push_back("\xEF\xBF\xBD");
        }
        run.clear();
        run_len = 0;
      };
      for (std::string& t : tokens) {
        auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
        if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && hex(t[3]) && hex(t[4])) {
          run.push_back(static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16)));
          ++run_len;
        } else {
          flush();
          next.push_back(std::move(t));
        }
      }
      flush();
    } else {  // Fuse
      std::string all;
      for (const std::string& t : tokens) all += t;
      next.push_back(std::move(all));
    }
    tokens.swap(next);
  }
  for (const std::string& t : tokens) joined += t;
  return joined;
}

}  // namespace medforget::bpe
