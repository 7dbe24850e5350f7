// libFuzzer harness: a checkpoint's config.json as model/checkpoint.cpp's
// load_checkpoint_config reads it (read_json, ModelConfig::from_json,
// validate), without the manifest around it.
//
// Invariant: a config that validates is written back by to_json (save_checkpoint
// does exactly that) into a config that reads and validates again, unchanged.
#include <cstdint>

#include "core/json.hpp"
#include "fuzz_util.hpp"
#include "model/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medforget;
  const auto p = fuzz::scratch_dir() / "config.json";
  fuzz::write_input(p, data, size);
  ModelConfig c;
  try {
    c = ModelConfig::from_json(read_json(p), p.string());
    c.validate();
  } catch (const Error&) {
    return 0;
  }
  const Json written = c.to_json();
  try {
    ModelConfig again = ModelConfig::from_json(written, "written");
    again.validate();
    if (again.to_json() != written)
      fuzz::invariant_failed("config changed in a write/read round trip");
  } catch (const Error& e) {
    fuzz::invariant_failed("a config that validated does not read back after to_json", e.what());
  }
  return 0;
}
