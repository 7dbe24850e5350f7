#pragma once
// SHA-256 digests (OpenSSL) of bytes, files and whole directory trees.
#include <filesystem>
#include <string>
#include <vector>

namespace medforget {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, size_t n);
  void update(const std::string& s) { update(s.data(), s.size()); }
  std::string hex();  // finalises

 private:
  void* ctx_;
};

std::string sha256_hex(const std::string& data);
// `bytes` bytes from OpenSSL's CSPRNG as lower-case hex: secrets, tokens, request ids.
std::string random_hex(size_t bytes);
std::string sha256_file(const std::filesystem::path& p);
// Digest over every regular file under dir (sorted relative paths + contents),
// skipping the names in `exclude` at the top level (e.g. manifest.json).
std::string sha256_tree(const std::filesystem::path& dir,
                        const std::vector<std::string>& exclude = {});

}  // namespace medforget
