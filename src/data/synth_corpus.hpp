#pragma once
// The deterministic synthetic corpus that stands in for MIMIC-CXR.
#include <filesystem>

#include "data/corpus.hpp"
#include "data/preset.hpp"

namespace medforget {

// Generates more than the preset needs (an extra eligible patient per
// institution, extra and incomplete studies, one patient with too few complete
// studies) so the benchmark builder's filtering and sampling do real work.
// Images go to out_dir/images/; the caller saves corpus.json.
Corpus synthesize_corpus(const DataPreset& preset, uint64_t seed, const std::filesystem::path& out_dir,
                         int image_size = 0 /* 0: the preset's */);

// synthesize_corpus + corpus.json + manifest, atomically into out_dir.
void write_synthetic_corpus(const DataPreset& preset, uint64_t seed, const std::filesystem::path& out_dir,
                            int image_size = 0);

}  // namespace medforget
