// libFuzzer harness: the RFC 4180 CSV reader (src/data/csv.cpp) the
// importers use on IU X-ray / MIMIC-CXR metadata files.
#include <cstdint>
#include <string>

#include "data/csv.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medforget;
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    CsvTable t = parse_csv(text, "fuzz.csv");
    // Every record has as many fields as the header (the reader's promise),
    // so every column lookup the importers make is in range.
    for (const auto& row : t.rows) {
      if (row.fields.size() != t.header.size())
        fuzz::invariant_failed("record width differs from the header");
      if (row.line < 2) fuzz::invariant_failed("record line before the header");
      for (const auto& h : t.header) (void)t.at(row, h);
    }
    t.require_columns({"uid", "filename"});
  } catch (const Error&) {
  }
  return 0;
}
