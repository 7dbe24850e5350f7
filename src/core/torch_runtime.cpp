// probe_runtime needs libtorch, so it lives in the torch library.
#include <torch/torch.h>

#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/runtime.hpp"
#include "core/progress.hpp"

namespace medforget {

// Debian ships OpenBLAS in two threading builds. The pthread one runs its own
// pool beside libtorch's OpenMP one, so on 2 cores a training step keeps more
// threads busy than there are cores; the OpenMP one shares libtorch's pool and
// can use every core without that fight (base step 1.2-1.5x faster, docs/RESULTS.md).
// openblas_get_parallel(): 0 sequential, 1 pthreads, 2 OpenMP.
static int openblas_parallel() {
  using GetParallel = int (*)();
  auto f = reinterpret_cast<GetParallel>(dlsym(RTLD_DEFAULT, "openblas_get_parallel"));
  return f ? f() : -1;
}

static int openblas_threads() {
  using GetThreads = int (*)();
  auto f = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return f ? f() : 0;
}

static void set_openblas_threads(int n) {
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
}

std::string blas_threading() {
  switch (openblas_parallel()) {
    case 0: return "sequential";
    case 1: return "pthread";
    case 2: return "openmp";
    default: return "";
  }
}

// The pthread build stays on the calling thread (1.65x faster than two pools
// on 2 cores, small preset); the OpenMP build follows libtorch's thread count.
// OPENBLAS_NUM_THREADS, when set, wins in both.
static void configure_openblas(int torch_threads) {
  if (std::getenv("OPENBLAS_NUM_THREADS")) return;
  const int parallel = openblas_parallel();
  if (parallel == 1) set_openblas_threads(1);
  if (parallel == 2) set_openblas_threads(torch_threads);
}

// glibc returns every freed block above 128 KiB to the kernel by default, so
// each training step faults its activations in again: 2.6x the page faults and
// 1.2x the step time of `base` (docs/RESULTS.md). Keep freed memory for reuse;
// 32 MiB is the largest mmap threshold glibc accepts.
static void keep_freed_memory() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") || std::getenv("GLIBC_TUNABLES"))
    return;  // the user tuned the allocator
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

// The sgemm probe measures the machine's peak, every core, whatever the
// pools are set to for training; the previous settings come back after.
// OpenBLAS's OpenMP build follows libtorch's count, so both are raised.
class AllCoresForBlas {
 public:
  AllCoresForBlas() : torch_before_(at::get_num_threads()), blas_before_(openblas_threads()) {
    const int all = static_cast<int>(std::thread::hardware_concurrency());
    at::set_num_threads(all);
    if (blas_before_ > 0) set_openblas_threads(all);
  }
  ~AllCoresForBlas() {
    at::set_num_threads(torch_before_);
    if (blas_before_ > 0) set_openblas_threads(blas_before_);
  }

 private:
  int torch_before_, blas_before_;
};

void configure_runtime() {
  keep_freed_memory();
  int n = 0;
  if (const char* t = std::getenv("MEDFORGET_THREADS")) {
    char* end = nullptr;
    const long v = std::strtol(t, &end, 10);
    if (*t && !*end && v > 0 && v <= 4096) n = static_cast<int>(v);
    else log_warn(std::string("MEDFORGET_THREADS='") + t + "' is not a positive integer; it is ignored");
  }
  if (n <= 0 && !std::getenv("OMP_NUM_THREADS")) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n > 0) at::set_num_threads(n);  // else libtorch already honours OMP_NUM_THREADS
  configure_openblas(at::get_num_threads());
}

// One timed sgemm trial on freshly allocated operands.
static double sgemm_trial(int64_t n, double seconds) {
  auto a = torch::randn({n, n}), b = torch::randn({n, n});
  auto c = torch::mm(a, b);  // warm-up
  int iters = 0;
  auto t0 = std::chrono::steady_clock::now();
  double el = 0;
  while (el < seconds) {
    c = torch::mm(a, b);
    ++iters;
    el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  return 2.0 * static_cast<double>(n) * n * n * iters / el / 1e9;
}

// The same sgemm runs up to 2x slower depending on where its operands land in
// memory (measured on this 2-core VM: 77-187 GFLOP/s for 1024^2 across fresh
// allocations in one process, docs/RESULTS.md), so one trial is not the peak.
// Several sizes, each on new allocations shifted by a spacer; the best is the
// peak, the median what a random placement gets.
RuntimeInfo probe_runtime(bool measure_sgemm, double seconds) {
  RuntimeInfo r;
  r.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                    std::to_string(TORCH_VERSION_PATCH);
  r.blas_library = loaded_blas_library();
  r.blas_kind = blas_kind_of(r.blas_library);
  r.threads = at::get_num_threads();
  r.blas_threads = openblas_threads();
  r.blas_threading = blas_threading();
  r.blas_core = openblas_core();
  if (measure_sgemm) {
    torch::NoGradGuard ng;
    AllCoresForBlas all_cores;
    r.sgemm_threads = r.blas_threads > 0 ? openblas_threads() : at::get_num_threads();
    const int64_t sizes[] = {1024, 1536, 2048};
    const int rounds = seconds >= 0.45 ? 3 : 1;
    const double per_trial = seconds / (rounds * 3);
    std::vector<torch::Tensor> spacers;
    std::vector<double> rates;
    for (int round = 0; round < rounds; ++round)
      for (int64_t n : sizes) {
        double g = sgemm_trial(n, per_trial);
        rates.push_back(g);
        if (g > r.sgemm_gflops) {
          r.sgemm_gflops = g;
          r.sgemm_n = static_cast<int>(n);
        }
        spacers.push_back(torch::empty({4099 * static_cast<int64_t>(rates.size())}));
      }
    std::sort(rates.begin(), rates.end());
    r.sgemm_trials = static_cast<int>(rates.size());
    r.sgemm_median_gflops = rates[rates.size() / 2];
  }
  return r;
}

}  // namespace medforget
