// libFuzzer harness: the runtime tokenizer (text/bpe_tokenizer.hpp), both of
// its inputs. The first byte picks which one the rest of the input is:
//   even: a tokenizer.json, read by BpeTokenizer::load as a checkpoint's is; a
//         file that loads then encodes and decodes a fixed text;
//   odd:  text (and, read as ids, a decode request) for the testbed tokenizer of
//         tests/fixtures/hf/export_a, the vocabulary every medforget checkpoint
//         carries in kind (Qwen2's pre-tokenizer regex, NFC, byte-level BPE).
//
// Invariant (text mode): encoding is a function of the NFC text and byte-level
// decoding inverts it, so re-encoding the decoded text gives the same ids.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "text/bpe_tokenizer.hpp"

namespace {

const medforget::BpeTokenizer& testbed_tokenizer() {
  // scripts/fuzz.sh runs the harness from the repository root.
  static const medforget::BpeTokenizer tok =
      medforget::BpeTokenizer::load("tests/fixtures/hf/export_a/tokenizer.json");
  return tok;
}

void fuzz_tokenizer_json(const uint8_t* data, size_t size) {
  using namespace medforget;
  const auto p = fuzz::scratch_dir() / "tokenizer.json";
  fuzz::write_input(p, data, size);
  try {
    const BpeTokenizer tok = BpeTokenizer::load(p);
    const std::vector<int> ids = tok.encode("Heart size is normal.<|im_end|> \xc3\xa9 12 ");
    (void)tok.decode(ids, true);
    for (int id = 0; id < tok.vocab_size() && id < 64; ++id) (void)tok.id_to_token(id);
  } catch (const Error&) {
  }
}

void fuzz_text(const uint8_t* data, size_t size) {
  using namespace medforget;
  const BpeTokenizer& tok = testbed_tokenizer();
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const bool parse_special : {true, false}) {
    std::vector<int> ids;
    try {
      ids = tok.encode(text, parse_special);
    } catch (const Error&) {
      continue;  // invalid UTF-8 is an Error
    }
    std::string decoded;
    try {
      decoded = tok.decode(ids);
    } catch (const Error& e) {
      fuzz::invariant_failed("encode produced ids that decode refuses", e.what());
    }
    try {
      if (tok.encode(decoded, parse_special) != ids)
        fuzz::invariant_failed("re-encoding the decoded text changed the ids");
    } catch (const Error& e) {
      fuzz::invariant_failed("the decoded text does not encode again", e.what());
    }
  }
  // The same bytes as a list of ids: decode returns text or an Error naming the id.
  std::vector<int> ids(size / 4);
  if (!ids.empty()) std::memcpy(ids.data(), data, ids.size() * 4);
  try {
    (void)tok.decode(ids, size % 2 == 0);
  } catch (const Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] % 2 == 0)
    fuzz_tokenizer_json(data + 1, size - 1);
  else
    fuzz_text(data + 1, size - 1);
  return 0;
}
