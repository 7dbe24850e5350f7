#pragma once
// File-system helpers. Every write is atomic: temp file + fsync + rename, so a
// killed run never leaves a half-written file behind.
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace medforget {

namespace fs = std::filesystem;

std::string read_text(const fs::path& p);
std::vector<uint8_t> read_bytes(const fs::path& p);
void write_atomic(const fs::path& p, const std::string& data);
void write_atomic(const fs::path& p, const std::vector<uint8_t>& data);
// The buffers one after another, as one atomic file (a large file is never
// assembled in memory first).
void write_atomic_parts(const fs::path& p, const std::vector<std::pair<const void*, size_t>>& parts);
void fsync_dir(const fs::path& dir);

// A directory built under a temporary sibling name and renamed into place on
// commit(); destroyed (removed) if never committed. An existing target is
// replaced only at commit time.
class StagingDir {
 public:
  explicit StagingDir(fs::path target);
  ~StagingDir();
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  const fs::path& path() const { return tmp_; }
  const fs::path& target() const { return target_; }
  void commit();

 private:
  fs::path target_, tmp_;
  bool committed_ = false;
};

}  // namespace medforget
