// Speed of the Hugging Face BPE tokenizer (src/text/bpe_tokenizer.hpp) on the real
// Qwen2.5 tokenizer.json and the reference-vector texts
// (tests/fixtures/qwen_tokenizer/vectors.jsonl): loading, encoding with a cold word
// cache (a fresh tokenizer) and with a warm one, and decoding. Needs the file that
// `scripts/tokenizer_vectors.sh fetch` puts in build/test-cache/qwen_tokenizer (or
// $MEDFORGET_QWEN_TOKENIZER); reports an error for each benchmark without it.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "text/bpe_tokenizer.hpp"

namespace {

using medforget::BpeTokenizer;

struct QwenInputs {
  std::filesystem::path file;
  std::vector<std::string> texts;
  std::string missing;  // why the benchmarks cannot run, or ""
};

const QwenInputs& inputs() {
  static const QwenInputs in = [] {
    QwenInputs r;
    const char* env = std::getenv("MEDFORGET_QWEN_TOKENIZER");
    r.file = env ? std::filesystem::path(env)
                 : std::filesystem::path(MEDFORGET_SOURCE_DIR) /
                       "build/test-cache/qwen_tokenizer/tokenizer.json";
    if (!std::filesystem::exists(r.file)) {
      r.missing = r.file.string() + " is missing: run scripts/tokenizer_vectors.sh fetch";
      return r;
    }
    for (const auto& row : medforget::read_jsonl(std::filesystem::path(MEDFORGET_SOURCE_DIR) /
                                                 "tests/fixtures/qwen_tokenizer/vectors.jsonl"))
      r.texts.push_back(row.at("text").get<std::string>());
    return r;
  }();
  return in;
}

size_t encode_all(const BpeTokenizer& t) {
  size_t n = 0;
  for (const auto& s : inputs().texts) n += t.encode(s).size();
  return n;
}

void BM_QwenLoad(benchmark::State& state) {
  if (!inputs().missing.empty()) return state.SkipWithError(inputs().missing.c_str());
  for (auto _ : state) benchmark::DoNotOptimize(BpeTokenizer::load(inputs().file));
}

void BM_QwenEncodeColdCache(benchmark::State& state) {
  if (!inputs().missing.empty()) return state.SkipWithError(inputs().missing.c_str());
  size_t tokens = 0;
  for (auto _ : state) {
    state.PauseTiming();
    BpeTokenizer t = BpeTokenizer::load(inputs().file);
    state.ResumeTiming();
    tokens += encode_all(t);
  }
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_QwenEncodeWarmCache(benchmark::State& state) {
  if (!inputs().missing.empty()) return state.SkipWithError(inputs().missing.c_str());
  static const BpeTokenizer t = BpeTokenizer::load(inputs().file);
  encode_all(t);
  size_t tokens = 0;
  for (auto _ : state) tokens += encode_all(t);
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

void BM_QwenDecode(benchmark::State& state) {
  if (!inputs().missing.empty()) return state.SkipWithError(inputs().missing.c_str());
  static const BpeTokenizer t = BpeTokenizer::load(inputs().file);
  std::vector<std::vector<int>> ids;
  for (const auto& s : inputs().texts) ids.push_back(t.encode(s));
  size_t tokens = 0;
  for (auto _ : state)
    for (const auto& v : ids) {
      benchmark::DoNotOptimize(t.decode(v));
      tokens += v.size();
    }
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_QwenLoad)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_QwenEncodeColdCache)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_QwenEncodeWarmCache)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_QwenDecode)->Unit(benchmark::kMillisecond);
