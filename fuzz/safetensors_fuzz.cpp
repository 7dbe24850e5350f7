// libFuzzer harness: the safetensors reader (src/model/safetensors.cpp) on
// arbitrary file bytes: the 8-byte header length, the JSON header (dtypes,
// shapes, data_offsets, __metadata__) and the data section's tiling.
#include <cstdint>
#include <map>
#include <string>

#include "fuzz_util.hpp"
#include "model/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medforget;
  const auto p = fuzz::scratch_dir() / "model.safetensors";
  fuzz::write_input(p, data, size);
  try {
    std::map<std::string, std::string> metadata;
    std::map<std::string, RawTensor> tensors = read_safetensors(p, &metadata);
    // What the reader promises its callers (model/checkpoint.cpp converts
    // without further checks): every tensor's bytes are numel × dtype size.
    size_t total = 0;
    for (const auto& [name, t] : tensors) {
      size_t n = dtype_size(t.dtype);
      for (int64_t d : t.shape) {
        if (d < 0) fuzz::invariant_failed("negative dimension accepted", name);
        n *= static_cast<size_t>(d);
      }
      if (n != t.data.size())
        fuzz::invariant_failed("tensor bytes differ from shape × dtype", name);
      total += t.data.size();
    }
    if (total > size) fuzz::invariant_failed("more tensor bytes than file bytes");
  } catch (const Error&) {
  }
  return 0;
}
