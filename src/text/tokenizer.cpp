#include "text/tokenizer.hpp"

#include <dlfcn.h>
#include <sentencepiece_processor.h>  // for sizeof(SentencePieceProcessor) only: see below

#include <mutex>
#include <string_view>
#include <unordered_map>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace medforget {

const std::vector<std::string>& SpecialTokens::all() {
  static const std::vector<std::string> v = {kPad,         kImStart,  kImEnd,
                                             kVisionStart, kImagePad, kVisionEnd};
  return v;
}

// ---------------------------------------------------------------------------
// SentencePiece, loaded in isolation.
//
// Debian's libsentencepiece0 bundles its own protobuf-lite (an older version)
// and exports its symbols; libtorch pulls in the system libprotobuf.so.32. Linked
// normally, whichever comes first in the global symbol scope breaks the other:
// a segfault in libprotobuf's static initialisers before main(), or protobuf
// CHECK failures inside SentencePiece. So the library is dlopen'ed with
// RTLD_LOCAL | RTLD_DEEPBIND (its protobuf calls bind to its own copy, and its
// symbols stay out of the global scope) and called through dlsym'ed entry points
// with the Itanium C++ ABI: a non-virtual call to a member function is a call to
// a free function taking `this` first; a returned util::Status (one pointer,
// non-trivial destructor) comes back through the hidden return slot. Nothing in
// this file may reference a SentencePiece symbol at link time.
// ---------------------------------------------------------------------------
namespace {

// sentencepiece::util::Status: a single std::unique_ptr<Rep>, null when ok.
struct SpStatus {
  void* rep = nullptr;
  SpStatus() = default;
  SpStatus(const SpStatus&) = delete;
  SpStatus& operator=(const SpStatus&) = delete;
  ~SpStatus();
  bool ok() const { return rep == nullptr; }
  std::string message() const;
};

// Same virtual layout as sentencepiece::SentenceIterator (dtor, done, Next, value, status).
class SpSentenceIterator {
 public:
  explicit SpSentenceIterator(const std::vector<std::string>& v) : v_(v) {}
  virtual ~SpSentenceIterator() = default;
  virtual bool done() const { return i_ >= v_.size(); }
  virtual void Next() { ++i_; }
  virtual const std::string& value() const { return v_[i_]; }
  virtual SpStatus status() const { return {}; }

 private:
  const std::vector<std::string>& v_;
  size_t i_ = 0;
};

using SpKwargs = std::unordered_map<std::string, std::string>;

struct SpApi {
  void (*proc_ctor)(void*);
  void (*proc_dtor)(void*);
  SpStatus (*load_proto)(void*, std::string_view);
  SpStatus (*encode)(const void*, std::string_view, std::vector<int>*);
  SpStatus (*decode)(const void*, const std::vector<int>&, std::string*);
  int (*piece_size)(const void*);
  int (*piece_to_id)(const void*, std::string_view);
  const std::string& (*id_to_piece)(const void*, int);
  bool (*is_control)(const void*, int);
  void (*status_dtor)(SpStatus*);
  std::string (*status_to_string)(const SpStatus*);
  void (*set_seed)(unsigned);
  SpStatus (*train)(const SpKwargs&, SpSentenceIterator*, std::string*);
};

void* sp_open(const char* name) {
  void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!h) {
    const char* err = dlerror();
    fail(std::string("cannot load ") + name +
         " (install Debian's libsentencepiece0): " + (err ? err : "dlopen failed"));
  }
  return h;
}

template <class F>
void sp_sym(void* lib, const char* lib_name, const char* symbol, F& out) {
  void* p = dlsym(lib, symbol);
  if (!p) fail(std::string(lib_name) + " lacks " + symbol + " (expected SentencePiece 0.1.9x)");
  out = reinterpret_cast<F>(p);
}

const SpApi& sp_api() {
  static const SpApi api = [] {
    const char* kLib = "libsentencepiece.so.0";
    const char* kTrainLib = "libsentencepiece_train.so.0";
    void* lib = sp_open(kLib);  // never closed: lives as long as the process
    void* train = sp_open(kTrainLib);
    SpApi a{};
    sp_sym(lib, kLib, "_ZN13sentencepiece22SentencePieceProcessorC1Ev", a.proc_ctor);
    sp_sym(lib, kLib, "_ZN13sentencepiece22SentencePieceProcessorD1Ev", a.proc_dtor);
    sp_sym(lib, kLib,
           "_ZN13sentencepiece22SentencePieceProcessor23LoadFromSerializedProtoESt17basic_string_"
           "viewIcSt11char_"
           "traitsIcEE",
           a.load_proto);
    sp_sym(lib, kLib,
           "_ZNK13sentencepiece22SentencePieceProcessor6EncodeESt17basic_string_viewIcSt11char_"
           "traitsIcEEPSt6vectorIiSaIiEE",
           a.encode);
    sp_sym(lib, kLib,
           "_ZNK13sentencepiece22SentencePieceProcessor6DecodeERKSt6vectorIiSaIiEEPNSt7__"
           "cxx1112basic_stringIcSt11char_"
           "traitsIcESaIcEEE",
           a.decode);
    sp_sym(lib, kLib, "_ZNK13sentencepiece22SentencePieceProcessor12GetPieceSizeEv", a.piece_size);
    sp_sym(lib, kLib,
           "_ZNK13sentencepiece22SentencePieceProcessor9PieceToIdESt17basic_string_viewIcSt11char_"
           "traitsIcEE",
           a.piece_to_id);
    sp_sym(lib, kLib, "_ZNK13sentencepiece22SentencePieceProcessor9IdToPieceB5cxx11Ei",
           a.id_to_piece);
    sp_sym(lib, kLib, "_ZNK13sentencepiece22SentencePieceProcessor9IsControlEi", a.is_control);
    sp_sym(lib, kLib, "_ZN13sentencepiece4util6StatusD1Ev", a.status_dtor);
    sp_sym(lib, kLib, "_ZNK13sentencepiece4util6Status8ToStringB5cxx11Ev", a.status_to_string);
    sp_sym(lib, kLib, "_ZN13sentencepiece22SetRandomGeneratorSeedEj", a.set_seed);
    sp_sym(train, kTrainLib,
           "_ZN13sentencepiece20SentencePieceTrainer5TrainERKSt13unordered_mapINSt7__cxx1112basic_"
           "stringIcSt11char_"
           "traitsIcESaIcEEES7_St4hashIS7_ESt8equal_toIS7_ESaISt4pairIKS7_S7_EEEPNS_"
           "16SentenceIteratorEPS7_",
           a.train);
    return a;
  }();
  return api;
}

SpStatus::~SpStatus() {
  if (rep) sp_api().status_dtor(this);
}

std::string SpStatus::message() const { return ok() ? "OK" : sp_api().status_to_string(this); }

// Storage for one sentencepiece::SentencePieceProcessor, built and destroyed through the API.
class SpProcessor {
 public:
  SpProcessor() { sp_api().proc_ctor(buf_); }
  ~SpProcessor() { sp_api().proc_dtor(buf_); }
  SpProcessor(const SpProcessor&) = delete;
  SpProcessor& operator=(const SpProcessor&) = delete;

  SpStatus load(std::string_view bytes) { return sp_api().load_proto(buf_, bytes); }
  SpStatus encode(std::string_view text, std::vector<int>* ids) const {
    return sp_api().encode(buf_, text, ids);
  }
  SpStatus decode(const std::vector<int>& ids, std::string* out) const {
    return sp_api().decode(buf_, ids, out);
  }
  int size() const { return sp_api().piece_size(buf_); }
  int piece_to_id(std::string_view piece) const { return sp_api().piece_to_id(buf_, piece); }
  const std::string& id_to_piece(int id) const { return sp_api().id_to_piece(buf_, id); }
  bool is_control(int id) const { return sp_api().is_control(buf_, id); }

 private:
  alignas(sentencepiece::SentencePieceProcessor) unsigned char buf_[sizeof(
      sentencepiece::SentencePieceProcessor)];
};

// Trains from memory; returns the serialized model proto. Holds a lock: the
// random seed and SentencePiece's log level are process-global.
std::string sp_train(const std::vector<std::string>& sentences, const SpKwargs& kwargs,
                     uint64_t seed, const std::string& what) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  const SpApi& api = sp_api();
  api.set_seed(static_cast<unsigned>(seed % 0xffffffffULL));  // (unsigned)-1 means "random_device"
  SpSentenceIterator it(sentences);
  std::string model;
  SpStatus st = api.train(kwargs, &it, &model);
  if (!st.ok())
    fail("tokenizer train " + what + ": SentencePiece training failed: " + st.message());
  return model;
}

}  // namespace

struct Tokenizer::Impl {
  SpProcessor sp;
  std::string serialized;  // the model file's bytes
  std::string digest;
};

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

namespace {

// Training sentences: every non-empty line of every text. A newline is never
// part of a learned piece; it always encodes as the byte piece <0x0A>, the
// same token wherever it occurs (template headers, report line breaks).
std::vector<std::string> training_sentences(const std::vector<std::string>& texts) {
  std::vector<std::string> out;
  for (const auto& t : texts) {
    size_t start = 0;
    while (start <= t.size()) {
      size_t nl = t.find('\n', start);
      if (nl == std::string::npos) nl = t.size();
      if (nl > start) out.push_back(t.substr(start, nl - start));
      start = nl + 1;
    }
  }
  // The chat template's role names, so that its headers encode compactly.
  if (!out.empty()) {
    out.emplace_back("user");
    out.emplace_back("assistant");
  }
  return out;
}

std::string join_specials() {
  std::string s;
  for (const auto& t : SpecialTokens::all()) s += (s.empty() ? "" : ",") + t;
  return s;
}

void load_into(SpProcessor& sp, const std::string& bytes, const std::string& what) {
  if (bytes.empty()) fail("tokenizer " + what + ": empty file, expected a SentencePiece model");
  SpStatus st = sp.load(bytes);
  if (!st.ok() || sp.size() <= 0)
    fail("tokenizer " + what + ": not a valid SentencePiece model (" + st.message() + ")");
}

int special_id(const SpProcessor& sp, const std::string& tok, const std::string& what) {
  int id = sp.piece_to_id(tok);
  if (id < 0 || id >= sp.size() || sp.id_to_piece(id) != tok)
    fail("tokenizer " + what + " lacks special token " + tok + " (expected it as a single piece)");
  // Control symbols are never produced from text by Encode, so a user who types
  // "<|im_start|>" cannot inject the template's markers; user-defined symbols would be.
  if (!sp.is_control(id))
    fail("tokenizer " + what + ": special token " + tok +
         " is not a control symbol (literal text could produce it); retrain with `medforget "
         "tokenizer train`");
  return id;
}

}  // namespace

void Tokenizer::train(const std::vector<std::string>& texts,
                      const std::filesystem::path& model_file, const TokenizerTrainOptions& opt) {
  const std::string what = model_file.string();
  if (opt.vocab_size <= 0)
    fail("tokenizer train " + what + ": vocab_size must be positive, got " +
         std::to_string(opt.vocab_size));
  if (opt.model_type != "bpe" && opt.model_type != "unigram")
    fail("tokenizer train " + what + ": type must be bpe or unigram, got '" + opt.model_type + "'");
  if (opt.num_threads < 1) fail("tokenizer train " + what + ": num_threads must be >= 1");
  std::vector<std::string> sentences = training_sentences(texts);
  if (sentences.empty()) fail("tokenizer train " + what + ": no training text (all texts empty)");

  const SpKwargs kwargs = {
      {"model_type", opt.model_type},
      {"vocab_size", std::to_string(opt.vocab_size)},
      {"hard_vocab_limit", "false"},  // tiny corpora: fewer pieces than asked is fine
      {"control_symbols", join_specials()},
      {"byte_fallback", "true"},  // any text encodes, no <unk>
      {"character_coverage", "1.0"},
      {"input_sentence_size", "0"},  // use every sentence
      {"shuffle_input_sentence", "false"},
      {"num_threads", std::to_string(opt.num_threads)},
      {"max_sentence_length", "1000000"},  // long report lines are never dropped
      {"split_digits", "true"},            // numbers (sizes, dates) digit by digit
      {"allow_whitespace_only_pieces", "true"},
      // Exact round trip: no NFKC, no whitespace folding, no dummy leading space.
      {"normalization_rule_name", "identity"},
      {"add_dummy_prefix", "false"},
      {"remove_extra_whitespaces", "false"},
      {"unk_id", "0"},
      {"bos_id", "-1"},
      {"eos_id", "-1"},
      {"pad_id", "-1"},      // padding is <|endoftext|>, a control symbol
      {"minloglevel", "2"},  // SentencePiece's training log is noise here
  };
  std::string model = sp_train(sentences, kwargs, opt.seed, what);
  // Validate before anything reaches the disk.
  SpProcessor check;
  load_into(check, model, what + " (freshly trained)");
  for (const auto& t : SpecialTokens::all()) special_id(check, t, what);
  write_atomic(model_file, model);
}

std::string Tokenizer::train_raw_sentencepiece(
    const std::vector<std::string>& sentences,
    const std::vector<std::pair<std::string, std::string>>& options, uint64_t seed) {
  SpKwargs kwargs(options.begin(), options.end());
  kwargs.emplace("minloglevel", "2");
  return sp_train(sentences, kwargs, seed, "(raw)");
}

Tokenizer Tokenizer::load(const std::filesystem::path& model_file) {
  const std::string what = model_file.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(model_file, ec))
    fail("tokenizer " + what + ": file not found (train one with `medforget tokenizer train`)");
  Tokenizer t;
  t.impl_->serialized = read_text(model_file);
  load_into(t.impl_->sp, t.impl_->serialized, what);
  t.impl_->digest = sha256_hex(t.impl_->serialized);
  const auto& sp = t.impl_->sp;
  t.pad_ = special_id(sp, SpecialTokens::kPad, what);
  t.im_start_ = special_id(sp, SpecialTokens::kImStart, what);
  t.im_end_ = special_id(sp, SpecialTokens::kImEnd, what);
  t.vision_start_ = special_id(sp, SpecialTokens::kVisionStart, what);
  t.image_pad_ = special_id(sp, SpecialTokens::kImagePad, what);
  t.vision_end_ = special_id(sp, SpecialTokens::kVisionEnd, what);
  return t;
}

std::vector<int> Tokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  SpStatus st = impl_->sp.encode(text, &ids);
  if (!st.ok()) fail("tokenizer: cannot encode text (" + st.message() + ")");
  return ids;
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  const int n = vocab_size();
  std::vector<int> kept;
  kept.reserve(ids.size());
  for (int id : ids) {
    if (id < 0 || id >= n)
      fail("tokenizer decode: id " + std::to_string(id) + " outside the vocabulary of " +
           std::to_string(n));
    if (!impl_->sp.is_control(id)) kept.push_back(id);
  }
  std::string out;
  SpStatus st = impl_->sp.decode(kept, &out);
  if (!st.ok()) fail("tokenizer decode: " + st.message());
  return out;
}

int Tokenizer::vocab_size() const { return impl_->sp.size(); }

int Tokenizer::piece_id(const std::string& piece) const {
  int id = impl_->sp.piece_to_id(piece);
  if (id < 0 || id >= vocab_size() || impl_->sp.id_to_piece(id) != piece)
    fail("tokenizer: unknown piece '" + piece + "'");
  return id;
}

std::string Tokenizer::id_to_piece(int id) const {
  if (id < 0 || id >= vocab_size())
    fail("tokenizer: id " + std::to_string(id) + " outside the vocabulary of " +
         std::to_string(vocab_size()));
  return impl_->sp.id_to_piece(id);
}

bool Tokenizer::is_special(int id) const {
  return id >= 0 && id < vocab_size() && impl_->sp.is_control(id);
}

std::string Tokenizer::digest() const { return impl_->digest; }

}  // namespace medforget
