// libFuzzer harness: the free-text radiology report splitter
// (src/data/report_parser.cpp) the importers run on MIMIC-CXR / IU X-ray /
// hand-written reports, plus what callers do with its result.
#include <cstdint>
#include <set>
#include <string>

#include "data/report_parser.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medforget;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)canonical_section_name(text);
  try {
    ParsedReport r = parse_report(text, "fuzz-report");
    std::set<std::string> names;
    for (const auto& s : r.sections) {
      if (!names.insert(s.name).second) fuzz::invariant_failed("section listed twice", s.name);
      if (r.get(s.name) != s.text)
        fuzz::invariant_failed("get() differs from the section text", s.name);
    }
    (void)r.missing_standard();
    (void)r.has_standard_four();
    (void)format_report(r.sections);
    for (const auto& name : standard_sections())
      if (!r.has(name)) (void)r.get(name);  // Error naming the section
  } catch (const Error&) {
  }
  return 0;
}
