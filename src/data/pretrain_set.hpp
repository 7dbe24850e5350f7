#pragma once
// The pretraining set: general radiology skills, no identities. The paper
// starts from Lingshu-7B, a model pretrained on broad medical image-text data,
// and fine-tunes it on MedForget; `medforget pretrain` plays that first part on
// this set. Its studies come from corpora that no benchmark draws (the
// synthetic generator under seeds of its own, so with other institutions,
// patients and house styles, plus any imported corpus given, less every
// patient an excluded benchmark holds), and its questions never name an
// institution, patient or study: section writing, cloze and section
// classification from the image (the benchmark's task kinds, always without a
// hierarchical context), and findings classification from the ground truth.
//
// On-disk layout of DIR:
//   manifest.json        stage "pretrain_set": options, corpus seeds, counts, content digest
//   items.jsonl          every item (image paths relative to DIR)
//   corpora/<k>/         each corpus: corpus.json, images/
#include <filesystem>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "data/item.hpp"

namespace medforget {

struct PretrainSetOptions {
  std::string data_preset = "small";  // the shape and image size of each synthetic corpus
  int corpora = 4;                    // synthetic corpora, each under its own seed
  uint64_t seed = 1;
  int image_size = 0;                                // 0: the data preset's
  std::vector<std::filesystem::path> import_dirs;    // corpora made by `data import` to add
  std::vector<std::filesystem::path> exclude;        // benchmarks that must share nothing with the set
  Json to_json() const;
};

// The seed of synthetic corpus k: a 64-bit value derived from (seed, k) in a
// stream of its own, so it is not a seed a benchmark is built with by hand.
uint64_t pretrain_corpus_seed(uint64_t seed, int k);

// Builds the set atomically into `out` (Error naming the record on bad input;
// Error when an excluded benchmark's identity or image would end up in it).
// Returns the manifest.
Json build_pretrain_set(const PretrainSetOptions& o, const std::filesystem::path& out);

// Error naming the benchmark and the string when any item of the set names an
// institution, patient or study of `bench`, or uses one of its images.
void check_disjoint(const std::vector<Item>& set_items, const std::filesystem::path& set_dir,
                    const std::filesystem::path& bench);

}  // namespace medforget
