// The torch tests train and unlearn in-process: on a CPU that OpenBLAS does not
// know they start again with kernels it can run, as the medforget program does.
#include <gtest/gtest.h>

#include "core/runtime.hpp"

int main(int argc, char** argv) {
  medforget::use_known_blas_core(argv, /*announce=*/false);
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
