// The torch tests configure the runtime as the CLI does: ctest runs them in
// parallel with MEDFORGET_THREADS=1, and without this each process would take
// every core for libtorch and OpenBLAS (see CMakeLists.txt, MF_TEST_ENV).
#include "core/runtime.hpp"

namespace {
const bool kConfigured = (medforget::configure_runtime(), true);
}  // namespace
