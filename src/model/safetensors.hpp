#pragma once
// The safetensors format (8-byte little-endian header length, JSON header with
// dtype/shape/data_offsets, raw little-endian data), read and written by
// medforget. Torch-free: tensors are byte blobs; model/checkpoint.* converts.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace medforget {

struct RawTensor {
  std::string dtype;            // "F32", "F16", "BF16", "I64", "I32", "U8", ...
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;    // little-endian bytes, size = numel × dtype size
};

size_t dtype_size(const std::string& dtype);  // Error for unknown dtypes
std::string shape_string(const std::vector<int64_t>& shape);  // "[2, 3]", for messages

// Writes atomically; tensors in name order (deterministic bytes).
void write_safetensors(const std::filesystem::path& p, const std::map<std::string, RawTensor>& tensors,
                       const std::map<std::string, std::string>& metadata = {});
// Validates everything: header length vs file size, JSON, dtypes, shapes vs
// byte ranges, ranges inside the data section, no overlaps. Errors name the file
// and the tensor.
std::map<std::string, RawTensor> read_safetensors(const std::filesystem::path& p,
                                                  std::map<std::string, std::string>* metadata = nullptr);

}  // namespace medforget
