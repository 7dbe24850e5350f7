#include "text/tokenizer.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "test_util.hpp"

using namespace medforget;

namespace {

// A small report-like corpus with newlines, digits, punctuation and unicode.
std::vector<std::string> corpus() {
  const char* findings[] = {"pleural effusion", "pneumothorax",  "cardiomegaly",
                            "atelectasis",      "consolidation", "edema"};
  const char* sides[] = {"left", "right", "bilateral"};
  std::vector<std::string> t;
  for (int i = 0; i < 120; ++i) {
    std::string f = findings[i % 6], s = sides[i % 3];
    t.push_back("FINDINGS:\nThere is a " + s + " " + f + " measuring " +
                std::to_string(3 + i % 17) + " mm, unchanged since 2021-0" +
                std::to_string(1 + i % 9) + ".\nIMPRESSION: " + f + ".");
    t.push_back("What does the report of study s" + std::to_string(1000 + i) + " say about the " +
                s + " lung?");
    t.push_back("No " + f + " — stable appearance (≥ 2 views).");
  }
  return t;
}

TokenizerTrainOptions small_opts() {
  TokenizerTrainOptions o;
  o.vocab_size = 500;
  return o;
}

struct Trained {
  test::TempDir dir;
  std::filesystem::path file;
  Tokenizer tok;
};

Trained& shared_bpe() {
  static Trained* t = [] {
    auto* x = new Trained;
    x->file = x->dir / "tokenizer.json";
    Tokenizer::train(corpus(), x->file, small_opts());
    x->tok = Tokenizer::load(x->file);
    return x;
  }();
  return *t;
}

void expect_load_error(const std::filesystem::path& p, const std::string& needle) {
  try {
    Tokenizer::load(p);
    ADD_FAILURE() << "no error for " << p;
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find(p.filename().string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

}  // namespace

TEST(Tokenizer, SpecialTokensAreDistinctSpecialAddedTokens) {
  const Tokenizer& t = shared_bpe().tok;
  std::set<int> ids = {t.pad_id(), t.im_start_id(), t.im_end_id(), t.vision_start_id(), t.image_pad_id(),
                       t.vision_end_id(), t.video_pad_id()};
  EXPECT_EQ(ids.size(), 7u);
  for (int id : ids) {
    EXPECT_TRUE(t.is_special(id)) << id;
    EXPECT_EQ(t.piece_id(t.id_to_piece(id)), id);
  }
  EXPECT_EQ(t.id_to_piece(t.image_pad_id()), "<|image_pad|>");
  // Specials come after the byte alphabet and the merges, as in Qwen's vocabulary.
  const auto merges = read_json(shared_bpe().file)["model"]["merges"].size();
  EXPECT_GT(merges, 100u);
  EXPECT_EQ(t.vocab_size(), static_cast<int>(256 + merges + 7));
  EXPECT_EQ(t.pad_id(), static_cast<int>(256 + merges));
}

TEST(Tokenizer, TrainingIsDeterministicAndReadsAsTokenizerJson) {
  test::TempDir d;
  Tokenizer::train(corpus(), d / "a.json", small_opts());
  EXPECT_EQ(read_text(d / "a.json"), read_text(shared_bpe().file));
  const Json j = read_json(d / "a.json");
  EXPECT_EQ(j["model"]["type"], "BPE");
  EXPECT_EQ(j["pre_tokenizer"]["pretokenizers"][1]["type"], "ByteLevel");
  EXPECT_EQ(j["decoder"]["type"], "ByteLevel");
  EXPECT_LE(j["model"]["merges"].size(), 500u - 256u);
  EXPECT_EQ(shared_bpe().tok.digest(), sha256_hex(read_text(shared_bpe().file)));
}

TEST(Tokenizer, RoundTripsText) {
  const Tokenizer& t = shared_bpe().tok;
  for (const std::string s : {"FINDINGS:\nThere is a left pleural effusion measuring 12 mm.",
                              "  two leading spaces and trailing  ", "tabs\tand\r\nwindows line ends",
                              "unicode: ≥ 2 views — naïve café 肺 🙂", "digits 2021-03-04 12.5%", ""}) {
    auto ids = t.encode(s);
    EXPECT_EQ(t.decode(ids), s) << s;
    for (int id : ids) EXPECT_FALSE(t.is_special(id)) << s;
  }
  // Merges learned from the corpus shorten it: fewer tokens than bytes.
  const std::string report = corpus()[0];
  EXPECT_LT(t.encode(report).size() * 2, report.size());
  // Digits stay one token each, as Qwen2's split pattern makes them.
  EXPECT_EQ(t.encode("2021").size(), 4u);
}

TEST(Tokenizer, LiteralSpecialTokenTextIsNotTheSpecialId) {
  const Tokenizer& t = shared_bpe().tok;
  auto ids = t.encode("hi <|im_start|>assistant\n<|image_pad|>");
  for (int id : ids) EXPECT_FALSE(t.is_special(id));
  EXPECT_EQ(t.decode(ids), "hi <|im_start|>assistant\n<|image_pad|>");
}

TEST(Tokenizer, DecodeDropsSpecialTokensAndRefusesUnknownIds) {
  const Tokenizer& t = shared_bpe().tok;
  auto ids = t.encode("no edema");
  std::vector<int> with = {t.im_start_id()};
  with.insert(with.end(), ids.begin(), ids.end());
  with.push_back(t.im_end_id());
  EXPECT_EQ(t.decode(with), "no edema");
  EXPECT_THROW(t.decode({t.vocab_size()}), Error);
  EXPECT_THROW(t.decode({-1}), Error);
}

TEST(Tokenizer, LoadErrorsNameTheFile) {
  test::TempDir d;
  expect_load_error(d / "missing.json", "not found");
  write_atomic(d / "garbage.json", std::string("this is not json \x01\x02"));
  expect_load_error(d / "garbage.json", "garbage.json");
  std::string good = read_text(shared_bpe().file);
  write_atomic(d / "truncated.json", good.substr(0, good.size() / 2));
  expect_load_error(d / "truncated.json", "truncated.json");
  // A tokenizer.json without the chat template's special tokens (another model's).
  const auto tiny = std::filesystem::path(MEDFORGET_SOURCE_DIR) / "tests/fixtures/bpe_tiny/tokenizer.json";
  std::filesystem::copy_file(tiny, d / "other.json");
  expect_load_error(d / "other.json", "<|endoftext|>");
  // The specials present but as plain (non-special) added tokens: user text could produce them.
  Json j = read_json(shared_bpe().file);
  for (auto& a : j["added_tokens"]) a["special"] = false;
  write_atomic(d / "plain.json", j.dump());
  expect_load_error(d / "plain.json", "special added token");
}

TEST(Tokenizer, SystemMessageComesFromTheChatTemplate) {
  test::TempDir d;
  std::filesystem::copy_file(shared_bpe().file, d / "tokenizer.json");
  EXPECT_EQ(Tokenizer::load(d.path()).system_message(), "You are a helpful assistant.");  // Qwen2.5-VL's default
  Json cfg = shared_bpe().tok.config_json(512);
  EXPECT_EQ(cfg["chat_template"], qwen2_5_vl_chat_template());
  EXPECT_EQ(cfg["eos_token"], "<|im_end|>");
  std::string tmpl = cfg["chat_template"];
  tmpl.replace(tmpl.find("You are a helpful assistant."), 28, "You are a radiology assistant.");
  cfg["chat_template"] = tmpl;
  write_json(d / "tokenizer_config.json", cfg);
  EXPECT_EQ(Tokenizer::load(d.path()).system_message(), "You are a radiology assistant.");
}

TEST(Tokenizer, TrainRejectsBadOptionsAndEmptyCorpus) {
  test::TempDir d;
  EXPECT_THROW(Tokenizer::train({}, d / "x.json", small_opts()), Error);
  EXPECT_THROW(Tokenizer::train({"", ""}, d / "x.json", small_opts()), Error);
  auto o = small_opts();
  o.vocab_size = 100;  // below the byte alphabet
  test::expect_contains(test::error_of([&] { Tokenizer::train(corpus(), d / "x.json", o); }), "256");
  EXPECT_FALSE(std::filesystem::exists(d / "x.json"));  // nothing half-written
}

TEST(Tokenizer, TinyCorpusTrainsASmallerVocabulary) {
  test::TempDir d;
  TokenizerTrainOptions o;  // default vocab 2000, far more than this corpus supports
  Tokenizer::train({"the heart is normal", "no effusion"}, d / "tiny.json", o);
  Tokenizer t = Tokenizer::load(d / "tiny.json");
  EXPECT_LT(t.vocab_size(), 300);
  EXPECT_EQ(t.decode(t.encode("the heart is normal")), "the heart is normal");
}

TEST(Tokenizer, MoveKeepsIds) {
  Tokenizer a = Tokenizer::load(shared_bpe().file);
  int im_start = a.im_start_id();
  std::string digest = a.digest();
  Tokenizer b = std::move(a);
  EXPECT_EQ(b.im_start_id(), im_start);
  EXPECT_EQ(b.digest(), digest);
  EXPECT_EQ(b.decode(b.encode("no edema")), "no edema");
}

// The real Qwen2.5 tokenizer (fetched by the setup step, never committed) loads
// with Qwen's own special ids and its chat template's system message.
TEST(Tokenizer, LoadsTheRealQwenTokenizer) {
  const auto dir = std::filesystem::path(MEDFORGET_TEST_CACHE) / "qwen_tokenizer";
  if (!std::filesystem::exists(dir / "tokenizer.json")) GTEST_SKIP() << "Qwen2.5 tokenizer.json not fetched (offline)";
  Tokenizer t = Tokenizer::load(dir);
  EXPECT_EQ(t.pad_id(), 151643);
  EXPECT_EQ(t.im_start_id(), 151644);
  EXPECT_EQ(t.im_end_id(), 151645);
  EXPECT_EQ(t.vision_start_id(), 151652);
  EXPECT_EQ(t.vision_end_id(), 151653);
  EXPECT_EQ(t.image_pad_id(), 151655);
  EXPECT_EQ(t.video_pad_id(), 151656);
  EXPECT_EQ(t.vocab_size(), 151665);
  EXPECT_NE(t.system_message().find("You are a helpful assistant."), std::string::npos) << t.system_message();
}

TEST(TokenizerCli, TrainsOnABenchmarkDeterministically) {
  test::TempDir d;
  auto build = test::run_cli("data build --preset tiny --seed 3 --out " + (d / "bench").string());
  ASSERT_EQ(build.exit_code, 0) << build.output;
  auto a = test::run_cli("tokenizer train --bench " + (d / "bench").string() + " --out " +
                         (d / "a.json").string() + " --vocab-size 800");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  Tokenizer t = Tokenizer::load(d / "a.json");
  EXPECT_NE(a.output.find("digest " + t.digest()), std::string::npos) << a.output;
  EXPECT_NE(a.output.find(std::to_string(t.vocab_size()) + " tokens"), std::string::npos) << a.output;
  auto b = test::run_cli("tokenizer train --bench " + (d / "bench").string() + " --out " +
                         (d / "b.json").string() + " --vocab-size 800");
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_EQ(read_text(d / "a.json"), read_text(d / "b.json"));

  auto missing = test::run_cli("tokenizer train --bench " + (d / "nowhere").string() + " --out " +
                               (d / "c.json").string());
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("not a finished benchmark directory"), std::string::npos) << missing.output;
  EXPECT_FALSE(std::filesystem::exists(d / "c.json"));
}
