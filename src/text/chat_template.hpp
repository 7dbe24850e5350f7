#pragma once
// Qwen2.5-VL's chat template, for one user turn with one image:
//   <|im_start|>system\n{system message}<|im_end|>\n
//   <|im_start|>user\n<|vision_start|><|image_pad|>×N<|vision_end|>{prompt}<|im_end|>\n
//   <|im_start|>assistant\n{answer}<|im_end|>
// N is the image's token count (its grid's t·h·w / merge²).
// Loss is on the answer tokens and the closing <|im_end|> only.
#include <cstdint>
#include <string>
#include <vector>

#include "text/tokenizer.hpp"

namespace medforget {

struct EncodedChat {
  std::vector<int64_t> ids;
  std::vector<uint8_t> loss_mask;    // 1 on assistant answer tokens (+ closing im_end)
  std::vector<uint8_t> vision_mask;  // 1 on <|image_pad|> positions
  int vision_begin = 0, vision_end = 0;  // [begin, end) of the image pad tokens
  int prompt_len = 0;  // tokens up to and including "<|im_start|>assistant\n"
};

// n_image_tokens pad tokens stand for the merged image patches. With an empty
// answer, the encoding ends at the assistant header (generation prompt). With
// n_image_tokens == 0 the vision block is left out (text-only sample, as Qwen does)
// and [vision_begin, vision_end) is empty.
// Error when the result exceeds max_len (never a silent truncation).
EncodedChat encode_chat(const Tokenizer& tok, const std::string& prompt, const std::string& answer,
                        int n_image_tokens, int max_len);

}  // namespace medforget
