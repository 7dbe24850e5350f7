// probe_runtime needs libtorch, so it lives in the torch library.
#include <torch/torch.h>

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/runtime.hpp"

namespace medforget {

// Debian's OpenBLAS (pthread build) runs its own thread pool beside libtorch's
// OpenMP one; on 2 cores a training step then keeps three threads busy and runs
// 1.65x slower (small preset: 1.2 vs 2.0 steps/s, docs/RESULTS.md). Unless the
// user set OPENBLAS_NUM_THREADS, BLAS calls stay on the calling thread.
static int openblas_threads() {
  using GetThreads = int (*)();
  auto f = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  return f ? f() : 0;
}

static void set_openblas_threads(int n) {
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) f(n);
}

static void single_threaded_openblas() {
  if (!std::getenv("OPENBLAS_NUM_THREADS")) set_openblas_threads(1);
}

// The sgemm probe measures the machine's peak, every core, whatever the
// BLAS pool is set to for training; the previous setting comes back after.
class AllCoresForBlas {
 public:
  AllCoresForBlas() : before_(openblas_threads()) {
    if (before_ > 0) set_openblas_threads(static_cast<int>(std::thread::hardware_concurrency()));
  }
  ~AllCoresForBlas() {
    if (before_ > 0) set_openblas_threads(before_);
  }

 private:
  int before_;
};

void configure_threads() {
  single_threaded_openblas();
  int n = 0;
  if (const char* t = std::getenv("MEDFORGET_THREADS")) n = std::atoi(t);
  if (n <= 0 && std::getenv("OMP_NUM_THREADS")) return;  // libtorch already honours it
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n > 0) at::set_num_threads(n);
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
  if (measure_sgemm) {
    torch::NoGradGuard ng;
    AllCoresForBlas all_cores;
    r.sgemm_threads = r.blas_threads > 0 ? openblas_threads() : r.threads;
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
