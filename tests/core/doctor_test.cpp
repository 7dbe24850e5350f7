#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "core/runtime.hpp"
#include "test_util.hpp"

using namespace medforget;

TEST(Doctor, ReportsTorchBlasThreadsAndSgemm) {
  auto r = test::run_cli("doctor --seconds 0.5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The peak is the best of several placements; the median is never above it.
  double peak = 0, median = 0;
  int threads = 0, trials = 0, n = 0;
  auto at = r.output.find("sgemm peak");
  ASSERT_NE(at, std::string::npos) << r.output;
  ASSERT_EQ(std::sscanf(r.output.c_str() + at, "sgemm peak %lf GFLOP/s on %d threads (best of %d trials, %d^2; median %lf)",
                        &peak, &threads, &trials, &n, &median),
            5)
      << r.output;
  EXPECT_EQ(trials, 9);
  EXPECT_GT(median, 0.0);
  EXPECT_GE(peak, median);
  EXPECT_TRUE(n == 1024 || n == 1536 || n == 2048) << n;
  EXPECT_NE(r.output.find("libtorch      "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("blas          "), std::string::npos);
  EXPECT_NE(r.output.find("threads       "), std::string::npos);
  EXPECT_NE(r.output.find("GFLOP/s"), std::string::npos);
  // OpenBLAS's pthread build trains on one thread beside libtorch's pool; its
  // OpenMP build follows libtorch's thread count. The peak is every core's.
  if (r.output.find("blas          openblas") != std::string::npos && !std::getenv("OPENBLAS_NUM_THREADS")) {
    int torch_threads = 0;
    auto t = r.output.find("threads       ");
    ASSERT_EQ(std::sscanf(r.output.c_str() + t, "threads       %d", &torch_threads), 1) << r.output;
    if (r.output.find("(pthread build") != std::string::npos)
      EXPECT_NE(r.output.find("blas threads  1 (pthread build)\n"), std::string::npos) << r.output;
    else
      EXPECT_NE(r.output.find("blas threads  " + std::to_string(torch_threads) + " (openmp build"), std::string::npos)
          << r.output;
    const std::string all = "on " + std::to_string(std::thread::hardware_concurrency()) + " threads";
    EXPECT_NE(r.output.find(all), std::string::npos) << r.output;
  }
#ifdef MEDFORGET_OPENMP_BLAS
  // Built to prefer the OpenMP build: the CLI must have loaded it, not the
  // alternatives system's default.
  EXPECT_NE(r.output.find("/openblas-openmp/"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(openmp build, shares libtorch's threads)"), std::string::npos) << r.output;
#endif
}

TEST(Doctor, WarnsWhenTheReferenceBlasIsLoaded) {
  const char* ref_dir = "/usr/lib/x86_64-linux-gnu/blas";
  if (!std::filesystem::exists(std::string(ref_dir) + "/libblas.so.3")) GTEST_SKIP() << "reference BLAS not installed";
  auto r = test::run_cli("doctor --seconds 0.1");
  bool openblas_default = r.output.find("blas          openblas") != std::string::npos;
  // Force the reference BLAS ahead of the alternatives link.
  const std::string out =
      test::run_command("env LD_LIBRARY_PATH=" + std::string(ref_dir) + " " + MEDFORGET_BIN + " doctor --seconds 0.1")
          .output;
  EXPECT_NE(out.find("WARNING: the reference BLAS"), std::string::npos) << out;
  EXPECT_NE(out.find("blas          reference"), std::string::npos) << out;
  if (openblas_default) {
    EXPECT_EQ(r.output.find("WARNING"), std::string::npos) << r.output;
  }
}

// OpenBLAS 0.3.21 gives a CPU newer than itself its generic Prescott kernels
// (6x slower, other rounding); medforget starts again with kernels it can run.
TEST(Doctor, OpenBlasNeverRunsItsGenericKernelsOnAVectorCpu) {
  auto r = test::run_command("env -u OPENBLAS_CORETYPE " + std::string(MEDFORGET_BIN) + " doctor --seconds 0.1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  if (r.output.find("blas          openblas") == std::string::npos) GTEST_SKIP() << "not OpenBLAS";
  char kernels[64] = {0};
  auto at = r.output.find("blas kernels  ");
  ASSERT_NE(at, std::string::npos) << r.output;
  ASSERT_EQ(std::sscanf(r.output.c_str() + at, "blas kernels  %63s", kernels), 1) << r.output;
  if (cpu_vector_units().avx) {
    EXPECT_STRNE(kernels, "Prescott") << r.output;
  }
  // Started again exactly when OpenBLAS had fallen back, and said so.
  const bool restarted = r.output.find("starting again with OPENBLAS_CORETYPE=") != std::string::npos;
  EXPECT_EQ(restarted, r.output.find("(OPENBLAS_CORETYPE)") != std::string::npos) << r.output;
  // The user's choice stands and is not announced.
  if (cpu_vector_units().avx2_fma) {
    auto h = test::run_command("env OPENBLAS_CORETYPE=Haswell " + std::string(MEDFORGET_BIN) + " doctor --seconds 0.1");
    ASSERT_EQ(h.exit_code, 0) << h.output;
    EXPECT_NE(h.output.find("blas kernels  Haswell (OPENBLAS_CORETYPE)"), std::string::npos) << h.output;
    EXPECT_EQ(h.output.find("starting again"), std::string::npos) << h.output;
  }
}

TEST(Doctor, OpenBlasCoreForAnUnknownCpu) {
  CpuVectorUnits none, avx, avx2, avx512, bf16;
  avx.avx = true;
  avx2.avx = avx2.avx2_fma = true;
  avx512.avx = avx512.avx2_fma = avx512.avx512 = true;
  bf16 = avx512;
  bf16.avx512_bf16 = true;
  EXPECT_EQ(openblas_core_for("Prescott", bf16), "Cooperlake");  // a 4th/5th-generation Xeon
  EXPECT_EQ(openblas_core_for("Prescott", avx512), "SkylakeX");
  EXPECT_EQ(openblas_core_for("Prescott", avx2), "Haswell");
  EXPECT_EQ(openblas_core_for("Prescott", avx), "Sandybridge");
  EXPECT_EQ(openblas_core_for("Prescott", none), "");  // a CPU that old has nothing better
  EXPECT_EQ(openblas_core_for("Cooperlake", avx512), "");  // OpenBLAS knew the CPU
  EXPECT_EQ(openblas_core_for("", avx512), "");             // not OpenBLAS
}

TEST(Doctor, BlasKindFromPath) {
  EXPECT_EQ(blas_kind_of("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"), "openblas");
  EXPECT_EQ(blas_kind_of("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3"), "reference");
  EXPECT_EQ(blas_kind_of("/opt/intel/libmkl_rt.so"), "mkl");
  EXPECT_EQ(blas_kind_of(""), "unknown");
}

TEST(Doctor, PicksTheCpuBlasAmongMappedLibraries) {
  const std::string torch_lib = "/opt/torch/lib/";
  // PyTorch's CUDA wheel: cuBLAS is mapped, its CPU BLAS is inside libtorch_cpu.
  EXPECT_EQ(pick_blas_library({torch_lib + "libtorch_cpu.so", "/opt/nvidia/cu13/lib/libcublasLt.so.13",
                               "/opt/nvidia/cu13/lib/libcublas.so.13"}),
            "");
  const std::string openblas = "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0";
  const std::string reference = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3";
  EXPECT_EQ(pick_blas_library({"/usr/lib/x86_64-linux-gnu/libcublas.so.12", openblas}), openblas);
  EXPECT_EQ(pick_blas_library({openblas, reference}), reference);  // sgemm binds to libblas.so.3
}

// PyTorch's own libtorch builds export copies of std::filesystem; the CLI must
// bind to libstdc++'s (CMakeLists.txt, mf_torch_executable): libstdc++ is
// needed before any libtorch library.
TEST(Doctor, LibstdcxxIsNeededBeforeLibtorch) {
  auto r = test::run_command(std::string("readelf -d ") + MEDFORGET_BIN);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto cxx = r.output.find("[libstdc++.so"), torch = r.output.find("[libtorch");
  ASSERT_NE(cxx, std::string::npos) << r.output;
  ASSERT_NE(torch, std::string::npos) << r.output;
  EXPECT_LT(cxx, torch) << r.output;
}
