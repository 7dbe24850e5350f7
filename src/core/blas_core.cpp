// OpenBLAS's DYNAMIC_ARCH build picks its kernels from the CPU's family and
// model at load time. A CPU newer than the library (Debian 12's 0.3.21 on a
// 5th-generation Xeon, model 207) is not in its table and gets the generic
// Prescott (SSE3) kernels: sgemm at 42 instead of 245 GFLOP/s on 2 cores, and
// rounding that differs from every other machine's (docs/RESULTS.md, Runtime).
// The choice is made when the library loads, so the only cure is to start the
// program again with OPENBLAS_CORETYPE naming kernels the CPU can run.
#include <dlfcn.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/progress.hpp"
#include "core/runtime.hpp"

namespace medforget {

std::string openblas_core() {
  using GetCore = char* (*)();
  auto f = reinterpret_cast<GetCore>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  const char* name = f ? f() : nullptr;
  return name ? name : "";
}

CpuVectorUnits cpu_vector_units() {
  CpuVectorUnits u;
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  u.avx = __builtin_cpu_supports("avx");
  u.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  u.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  u.avx512_bf16 = u.avx512 && __builtin_cpu_supports("avx512bf16");
#endif
  return u;
}

std::string openblas_core_for(const std::string& detected, const CpuVectorUnits& cpu) {
  // Prescott is where OpenBLAS lands when it does not know the CPU; a CPU with
  // AVX is at least a Sandy Bridge, so the fallback is never right for it.
  if (detected != "Prescott") return "";
  // The newest kernels this build has for the units: with BF16, Cooperlake (its
  // OPENBLAS_CORETYPE=SapphireRapids loads them too), else SkylakeX, Haswell.
  if (cpu.avx512_bf16) return "Cooperlake";
  if (cpu.avx512) return "SkylakeX";
  if (cpu.avx2_fma) return "Haswell";
  if (cpu.avx) return "Sandybridge";
  return "";
}

void use_known_blas_core(char** argv, bool announce) {
  if (std::getenv("OPENBLAS_CORETYPE")) return;  // the user's choice, or already started again
  const std::string detected = openblas_core();
  const std::string core = openblas_core_for(detected, cpu_vector_units());
  if (core.empty()) return;
  setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  if (announce)
    log_info("OpenBLAS does not know this CPU and chose its generic " + detected +
             " kernels (about 6x slower); starting again with OPENBLAS_CORETYPE=" + core +
             " (set OPENBLAS_CORETYPE yourself to choose)");
  execv("/proc/self/exe", argv);
  log_warn(std::string("could not start again with OPENBLAS_CORETYPE=") + core + " (" + std::strerror(errno) +
           "): going on with OpenBLAS's " + detected + " kernels");
}

}  // namespace medforget
