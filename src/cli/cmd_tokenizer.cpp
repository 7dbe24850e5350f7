#include <cstdio>
#include <filesystem>

#include "cli/commands.hpp"
#include "core/output.hpp"
#include "core/error.hpp"
#include "core/manifest.hpp"
#include "data/item.hpp"
#include "text/tokenizer.hpp"

namespace medforget::cli {

namespace {

struct TokenizerArgs {
  std::string bench, out, model, text;
  TokenizerTrainOptions opt;
  bool force = false;
};

TokenizerArgs& args() {
  static TokenizerArgs a;
  return a;
}

}  // namespace

void register_tokenizer(CLI::App& app) {
  auto* tok = app.add_subcommand("tokenizer", "Train and inspect byte-level BPE tokenizers (tokenizer.json)");
  tok->require_subcommand(1);
  auto& a = args();

  auto* train =
      tok->add_subcommand("train", "Train on every prompt and answer of BENCH/finetune.jsonl");
  train->add_option("--bench", a.bench, "Benchmark directory (holding finetune.jsonl)")->required();
  train->add_option("--out", a.out, "Output tokenizer file (tokenizer.json)")->required();
  train->add_option("--vocab-size", a.opt.vocab_size,
                    "Vocabulary size before the special tokens (at least 256; an upper bound on tiny corpora)");
  train->add_option("--min-frequency", a.opt.min_frequency, "Least count of a pair that is merged");
  train->add_flag("--force", a.force, "Replace the file at --out");
  train->callback([&a] {
    OutputLock lock = claim_output(a.out, {"tokenizer train", "tokenizer", {a.bench}, a.force, true});
    read_verified_manifest(a.bench, "benchmark");  // an edited benchmark is refused, as everywhere
    const std::filesystem::path items_file = std::filesystem::path(a.bench) / "finetune.jsonl";
    if (!std::filesystem::exists(items_file))
      fail(items_file.string() + ": not found (is --bench a benchmark directory?)");
    std::vector<Item> items = read_items(items_file);
    std::vector<std::string> texts;
    texts.reserve(items.size() * 2);
    for (const auto& it : items) {
      texts.push_back(it.prompt);
      texts.push_back(it.answer);
      for (const auto& o : it.options) texts.push_back(o);
    }
    Tokenizer::train(texts, a.out, a.opt);
    Tokenizer t = Tokenizer::load(a.out);
    std::printf("tokenizer %s: %d tokens (byte-level BPE, trained on %zu items)\ndigest %s\n", a.out.c_str(),
                t.vocab_size(), items.size(), t.digest().c_str());
  });

  auto* encode = tok->add_subcommand("encode", "Print the pieces and ids of a text");
  encode->add_option("--model", a.model, "tokenizer.json, or a model directory holding one")->required();
  encode->add_option("text", a.text, "Text to encode")->required();
  encode->callback([&a] {
    Tokenizer t = Tokenizer::load(a.model);
    std::vector<int> ids = t.encode(a.text);
    for (int id : ids) std::printf("%d\t%s\n", id, t.id_to_piece(id).c_str());
    std::printf("%zu tokens\n", ids.size());
  });
}

}  // namespace medforget::cli
