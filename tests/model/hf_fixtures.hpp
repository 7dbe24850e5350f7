#pragma once
// The Hugging Face reference fixtures (tests/fixtures/hf, made by
// scripts/hf_reference.py) as the parity tests read them.
#include <cstring>
#include <filesystem>
#include <vector>

#include "model/safetensors.hpp"

namespace medforget::test {

inline const std::filesystem::path kHfFixtures = std::filesystem::path(MEDFORGET_SOURCE_DIR) / "tests/fixtures/hf";

// A tensor's values, as the fixture stored them (little-endian, this machine's order).
template <class T>
std::vector<T> values(const RawTensor& t) {
  std::vector<T> v(t.data.size() / sizeof(T));
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

}  // namespace medforget::test
