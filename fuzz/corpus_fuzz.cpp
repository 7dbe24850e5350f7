// libFuzzer harness: a corpus directory's corpus.json (src/data/corpus.cpp
// load_corpus: institutions, patients, studies, findings, ids that become
// paths, image paths that must exist).
//
// The scratch directory holds two image files the seeds name
// (images/study_a.png, images/study_b.png), so inputs get past the existence
// check to the records after it.
#include <cstdint>

#include "data/corpus.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medforget;
  static const std::filesystem::path dir = [] {
    auto d = fuzz::scratch_dir() / "corpus";
    std::filesystem::create_directories(d / "images");
    for (const char* name : {"study_a.png", "study_b.png"}) {
      const uint8_t png[] = {0x89, 'P', 'N', 'G'};
      fuzz::write_input(d / "images" / name, png, sizeof png);
    }
    return d;
  }();
  fuzz::write_input(dir / "corpus.json", data, size);
  try {
    Corpus c = load_corpus(dir);
    (void)c;
  } catch (const Error&) {
  }
  return 0;
}
