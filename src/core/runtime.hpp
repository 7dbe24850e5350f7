#pragma once
// What the numerical runtime looks like: libtorch version, which BLAS got
// loaded, thread count and a measured sgemm rate. No torch headers here.
#include <string>
#include <vector>

namespace medforget {

struct RuntimeInfo {
  std::string torch_version;
  std::string blas_library;  // resolved path of the loaded BLAS shared object
  std::string blas_kind;     // "openblas", "mkl", "reference", "unknown"
  int threads = 0;
  int blas_threads = 0;       // the OpenBLAS pool the program's work uses (0: not OpenBLAS)
  std::string blas_core;       // OpenBLAS's kernels ("SkylakeX", ...); "" if not OpenBLAS
  std::string blas_threading;  // OpenBLAS build: "openmp", "pthread", "sequential"; "" if not OpenBLAS
  double sgemm_gflops = 0.0;         // the peak: best trial; 0 unless measured
  double sgemm_median_gflops = 0.0;  // median trial: what an arbitrary placement gets
  int sgemm_trials = 0;
  int sgemm_n = 1024;                // size of the best trial
  int sgemm_threads = 0;      // BLAS threads during the probe: every core, for the machine's peak
};

// Reads /proc/self/maps; cheap enough to call at every command start.
std::string loaded_blas_library();
// The CPU BLAS among mapped library paths ("" when none is mapped on its own,
// as with PyTorch's wheels, which link MKL into libtorch_cpu).
std::string pick_blas_library(const std::vector<std::string>& mapped_paths);
std::string blas_kind_of(const std::string& path);
// Prints a warning when the reference BLAS is loaded (about 20x slower).
void warn_if_reference_blas();
// Call once at program start. Intra-op threads: MEDFORGET_THREADS, else
// OMP_NUM_THREADS, else every core; OpenBLAS threads to match its build; the
// allocator keeps freed memory (unless MALLOC_* or GLIBC_TUNABLES are set).
void configure_runtime();
// The kernels the loaded OpenBLAS chose ("SkylakeX", "Haswell", ...), "" when it is not OpenBLAS.
std::string openblas_core();
struct CpuVectorUnits {
  bool avx = false, avx2_fma = false, avx512 = false;  // avx512: F, BW, DQ and VL
  bool avx512_bf16 = false;
};
CpuVectorUnits cpu_vector_units();
// The OPENBLAS_CORETYPE to start again with when OpenBLAS fell back to its
// generic kernels on a CPU it does not know; "" when its choice stands.
std::string openblas_core_for(const std::string& detected, const CpuVectorUnits& cpu);
// Call first in main(): when openblas_core_for() names better kernels and
// OPENBLAS_CORETYPE is unset, sets it and replaces the process with a fresh
// start of the same program and arguments (child processes inherit it).
void use_known_blas_core(char** argv, bool announce = true);
// OpenBLAS's threading build of the loaded library, "" when it is not OpenBLAS.
std::string blas_threading();
RuntimeInfo probe_runtime(bool measure_sgemm, double seconds = 1.0);

}  // namespace medforget
