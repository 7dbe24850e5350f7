#pragma once
// Shared by the libFuzzer harnesses (scripts/fuzz.sh builds and runs them).
//
// The contract every harness checks: for any input bytes, a medforget parser
// either returns a value or throws medforget::Error (the documented error path,
// a clear message naming the file and field). Anything else is a finding:
// another exception type escaping (std::terminate -> abort), a crash, an
// AddressSanitizer / UndefinedBehaviorSanitizer report, a hang (-timeout) or
// running out of memory (-rss_limit_mb).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.hpp"

namespace medforget::fuzz {

// A private scratch directory per fuzzing process (on tmpfs when there is one),
// removed at exit. Parsers whose entry point takes a path read the input from here.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm") && access("/dev/shm", W_OK) == 0
            ? std::filesystem::path("/dev/shm")
            : std::filesystem::temp_directory_path();
    std::filesystem::path d = base / ("medforget-fuzz-" + std::to_string(getpid()));
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return d;
  }();
  return dir;
}

// Writes the input as-is (plain write: the parsers under test never see a
// half-written file here, and fsync would only slow the fuzzer down).
inline void write_input(const std::filesystem::path& p, const uint8_t* data, size_t size) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    std::fprintf(stderr, "fuzz harness: cannot write %s\n", p.c_str());
    std::abort();
  }
}

// A property of the parser's own output broke: report it as a crash.
[[noreturn]] inline void invariant_failed(const char* what, const std::string& detail = "") {
  std::fprintf(stderr, "fuzz invariant failed: %s%s%s\n", what, detail.empty() ? "" : ": ",
               detail.c_str());
  std::abort();
}

}  // namespace medforget::fuzz
