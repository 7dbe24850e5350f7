#include "text/tokenizer.hpp"

#include <regex>

#include "core/digest.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "text/bpe_tokenizer.hpp"
#include "text/bpe_trainer.hpp"

namespace medforget {

namespace fs = std::filesystem;

const std::vector<std::string>& SpecialTokens::all() {
  static const std::vector<std::string> v = {kPad, kImStart, kImEnd, kVisionStart, kImagePad, kVisionEnd, kVideoPad};
  return v;
}

const std::string& qwen2_5_vl_chat_template() {
  static const std::string t =
      "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}{% for message in messages %}"
      "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
      "{% endif %}<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}{{ message['content'] }}"
      "<|im_end|>\n{% else %}{% for content in message['content'] %}{% if content['type'] == 'image' or 'image' in "
      "content or 'image_url' in content %}{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}"
      "Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>{% elif content['type'] "
      "== 'video' or 'video' in content %}{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}"
      "Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>{% elif 'text' in content "
      "%}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}{% if add_generation_prompt %}"
      "<|im_start|>assistant\n{% endif %}";
  return t;
}

struct Tokenizer::Impl {
  BpeTokenizer bpe;
  std::string digest;
  fs::path file;
  std::string system = kQwenSystemMessage;
};

Tokenizer::Tokenizer() : impl_(std::make_unique<Impl>()) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

void Tokenizer::train(const std::vector<std::string>& texts, const fs::path& tokenizer_json,
                      const TokenizerTrainOptions& opt) {
  BpeTrainOptions o;
  o.vocab_size = opt.vocab_size;
  o.min_frequency = opt.min_frequency;
  Json j;
  try {
    j = train_byte_level_bpe(texts, o, SpecialTokens::all());
  } catch (const Error& e) {
    fail(tokenizer_json.string() + ": " + e.what());
  }
  write_atomic(tokenizer_json, j.dump(1) + "\n");
  load(tokenizer_json);  // what was written must load
}

namespace {

// The default system message a chat template writes, when it has one.
std::string template_system_message(const std::string& tmpl) {
  static const std::regex re(R"(<\|im_start\|>system\n([^<{]*)<\|im_end\|>)");
  std::smatch m;
  if (std::regex_search(tmpl, m, re)) return m[1].str();
  return kQwenSystemMessage;
}

}  // namespace

Tokenizer Tokenizer::load(const fs::path& path) {
  std::error_code ec;
  const fs::path file = fs::is_directory(path, ec) ? path / "tokenizer.json" : path;
  if (!fs::is_regular_file(file, ec))
    fail(file.string() + ": tokenizer.json not found (train one with `medforget tokenizer train`)");
  Tokenizer t;
  t.impl_->bpe = BpeTokenizer::load(file);
  t.impl_->file = file;
  t.impl_->digest = sha256_hex(read_text(file));
  auto special = [&](const char* tok, bool required) {
    auto id = t.impl_->bpe.token_to_id(tok);
    if (!id || !t.impl_->bpe.is_special(*id)) {
      if (!required) return -1;
      fail(file.string() + ": lacks the special token " + std::string(tok) +
           " that Qwen2.5-VL's chat template needs (as a special added token)");
    }
    return *id;
  };
  t.pad_ = special(SpecialTokens::kPad, true);
  t.im_start_ = special(SpecialTokens::kImStart, true);
  t.im_end_ = special(SpecialTokens::kImEnd, true);
  t.vision_start_ = special(SpecialTokens::kVisionStart, true);
  t.image_pad_ = special(SpecialTokens::kImagePad, true);
  t.vision_end_ = special(SpecialTokens::kVisionEnd, true);
  t.video_pad_ = special(SpecialTokens::kVideoPad, false);
  const fs::path cfg = file.parent_path() / "tokenizer_config.json";
  if (fs::is_regular_file(cfg, ec)) {
    const Json c = read_json(cfg);
    if (auto it = c.find("chat_template"); it != c.end() && it->is_string())
      t.impl_->system = template_system_message(it->get<std::string>());
  }
  return t;
}

std::vector<int> Tokenizer::encode(const std::string& text) const {
  return impl_->bpe.encode(text, /*parse_special=*/false);
}

std::string Tokenizer::decode(const std::vector<int>& ids) const {
  return impl_->bpe.decode(ids, /*skip_special=*/true);
}

int Tokenizer::vocab_size() const { return impl_->bpe.vocab_size(); }

int Tokenizer::piece_id(const std::string& piece) const {
  auto id = impl_->bpe.token_to_id(piece);
  if (!id) fail("tokenizer: unknown piece '" + piece + "'");
  return *id;
}

std::string Tokenizer::id_to_piece(int id) const {
  auto p = impl_->bpe.id_to_token(id);
  if (!p) fail("tokenizer: id " + std::to_string(id) + " outside the vocabulary of " + std::to_string(vocab_size()));
  return *p;
}

bool Tokenizer::is_special(int id) const { return impl_->bpe.is_special(id); }
std::string Tokenizer::digest() const { return impl_->digest; }
const fs::path& Tokenizer::file() const { return impl_->file; }
const std::string& Tokenizer::system_message() const { return impl_->system; }

Json Tokenizer::config_json(int model_max_length) const {
  Json added = Json::object();
  for (const auto& a : impl_->bpe.added_tokens())
    added[std::to_string(a.id)] = {{"content", a.content}, {"lstrip", a.lstrip}, {"normalized", a.normalized},
                                   {"rstrip", a.rstrip},   {"single_word", a.single_word}, {"special", a.special}};
  return Json{{"tokenizer_class", "Qwen2Tokenizer"},
              {"chat_template", qwen2_5_vl_chat_template()},
              {"added_tokens_decoder", added},
              {"bos_token", nullptr},
              {"eos_token", SpecialTokens::kImEnd},
              {"pad_token", SpecialTokens::kPad},
              {"unk_token", nullptr},
              {"errors", "replace"},
              {"clean_up_tokenization_spaces", false},
              {"split_special_tokens", false},
              {"model_max_length", model_max_length}};
}

}  // namespace medforget
