// libFuzzer harness: a run configuration file (`medforget run --config`,
// `medforget grid --config`): src/pipeline/run_config.cpp load_config ->
// apply_config over the run and grid defaults, then validate_config as the
// CLI runs it before any work.
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "pipeline/run_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medforget;
  // The method registry lives in the torch library; its names (src/unlearn/registry.cpp).
  static const std::vector<std::string> kMethods = {"chip",       "graddiff", "kl_min", "manu",
                                                    "mip_editor", "npo",      "retrain"};
  const auto p = fuzz::scratch_dir() / "run.json";
  fuzz::write_input(p, data, size);
  for (bool grid : {false, true}) {
    try {
      RunConfig base = grid ? default_grid_config("tiny") : default_run_config("tiny");
      RunConfig c = load_config(std::move(base), p);
      validate_config(c, kMethods);
      (void)c.to_json().dump();
    } catch (const Error&) {
    }
  }
  return 0;
}
