#include "text/chat_template.hpp"

#include "core/error.hpp"

namespace medforget {

namespace {

void append_text(EncodedChat& e, const Tokenizer& tok, const std::string& text, uint8_t loss) {
  for (int id : tok.encode(text)) {
    e.ids.push_back(id);
    e.loss_mask.push_back(loss);
    e.vision_mask.push_back(0);
  }
}

void append_id(EncodedChat& e, int id, uint8_t loss, uint8_t vision = 0) {
  e.ids.push_back(id);
  e.loss_mask.push_back(loss);
  e.vision_mask.push_back(vision);
}

}  // namespace

EncodedChat encode_chat(const Tokenizer& tok, const std::string& prompt, const std::string& answer,
                        int n_image_tokens, int max_len) {
  if (n_image_tokens < 0)
    fail("encode_chat: n_image_tokens must be >= 0, got " + std::to_string(n_image_tokens));
  if (max_len <= 0) fail("encode_chat: max_len must be positive, got " + std::to_string(max_len));
  EncodedChat e;
  // Role names and the newlines after them are plain text, encoded on their own
  // so that every sample's header is the same token sequence. Text between two
  // special tokens is one pre-tokenizer segment either way, so this equals
  // tokenizing the whole rendered template.
  append_id(e, tok.im_start_id(), 0);
  append_text(e, tok, "system\n" + tok.system_message(), 0);
  append_id(e, tok.im_end_id(), 0);
  append_text(e, tok, "\n", 0);
  append_id(e, tok.im_start_id(), 0);
  append_text(e, tok, "user\n", 0);
  if (n_image_tokens > 0) {
    append_id(e, tok.vision_start_id(), 0);
    e.vision_begin = static_cast<int>(e.ids.size());
    for (int i = 0; i < n_image_tokens; ++i) append_id(e, tok.image_pad_id(), 0, 1);
    e.vision_end = static_cast<int>(e.ids.size());
    append_id(e, tok.vision_end_id(), 0);
  } else {
    // Text-only sample (as Qwen does): no vision block, an empty range where it would start.
    e.vision_begin = e.vision_end = static_cast<int>(e.ids.size());
  }
  append_text(e, tok, prompt, 0);
  append_id(e, tok.im_end_id(), 0);
  append_text(e, tok, "\n", 0);
  append_id(e, tok.im_start_id(), 0);
  append_text(e, tok, "assistant\n", 0);
  e.prompt_len = static_cast<int>(e.ids.size());
  if (!answer.empty()) {
    append_text(e, tok, answer, 1);
    append_id(e, tok.im_end_id(), 1);
  }
  const int n = static_cast<int>(e.ids.size());
  if (n > max_len) {
    if (answer.empty())
      fail("prompt of " + std::to_string(n) + " tokens exceeds the context of " +
           std::to_string(max_len));
    fail("prompt and answer of " + std::to_string(n) + " tokens (prompt " +
         std::to_string(e.prompt_len) + ") exceeds the context of " + std::to_string(max_len));
  }
  return e;
}

}  // namespace medforget
