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

// Where a tensor's bytes are: the same validation as read_safetensors, nothing read
// but the header.
struct TensorSpan {
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t offset = 0;  // from the start of the file
  uint64_t bytes = 0;
};
std::map<std::string, TensorSpan> read_safetensors_header(const std::filesystem::path& p,
                                                          std::map<std::string, std::string>* metadata = nullptr);

// A file mapped read-only: checkpoints load tensor by tensor from the page cache,
// and release() drops a consumed range from the resident set, so loading costs
// the model's own size in memory, not twice it.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& p);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  void release(uint64_t offset, uint64_t bytes) const;

 private:
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace medforget
