#include "core/digest.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <fstream>
#include <vector>

#include "core/error.hpp"

namespace medforget {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr) != 1)
    fail("sha256: OpenSSL digest initialisation failed");
}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Sha256::update(const void* data, size_t n) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, n);
}

std::string Sha256::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
  static const char* k = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += k[md[i] >> 4];
    s += k[md[i] & 15];
  }
  return s;
}

std::string sha256_hex(const std::string& data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

static void hash_file_into(Sha256& h, const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) fail(p.string() + ": cannot open for hashing");
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
}

std::string sha256_file(const std::filesystem::path& p) {
  Sha256 h;
  hash_file_into(h, p);
  return h.hex();
}

std::string sha256_tree(const std::filesystem::path& dir, const std::vector<std::string>& exclude) {
  namespace fs = std::filesystem;
  std::vector<std::string> rels;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string rel = fs::relative(e.path(), dir).generic_string();
    if (std::find(exclude.begin(), exclude.end(), rel) != exclude.end()) continue;
    rels.push_back(rel);
  }
  std::sort(rels.begin(), rels.end());
  Sha256 h;
  for (const auto& rel : rels) {
    h.update(rel);
    h.update("\0", 1);
    h.update(sha256_file(dir / rel));
  }
  return h.hex();
}

}  // namespace medforget

namespace medforget {

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> b(bytes);
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) fail("no randomness available (OpenSSL RAND_bytes)");
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) s += {hex[c >> 4], hex[c & 15]};
  return s;
}

}  // namespace medforget
