#include <cstdio>
#include <cstdlib>

#include "cli/commands.hpp"
#include "core/runtime.hpp"

namespace medforget::cli {

void register_doctor(CLI::App& app) {
  auto* cmd = app.add_subcommand("doctor", "Print the libtorch version, the BLAS in use, threads and sgemm GFLOP/s");
  static double seconds = 1.0;
  cmd->add_option("--seconds", seconds, "How long to measure sgemm")->check(CLI::Range(0.05, 60.0));
  cmd->callback([] {
    RuntimeInfo r = probe_runtime(true, seconds);
    std::printf("libtorch      %s\n", r.torch_version.c_str());
    const char* where = r.blas_library.empty() ? "no BLAS library of its own: built into libtorch" : r.blas_library.c_str();
    std::printf("blas          %s (%s)\n", r.blas_kind.c_str(), where);
    std::printf("threads       %d\n", r.threads);
    if (r.blas_threads > 0)
      std::printf("blas threads  %d (%s build%s)\n", r.blas_threads, r.blas_threading.c_str(),
                  r.blas_threading == "openmp" ? ", shares libtorch's threads" : "");
    if (!r.blas_core.empty()) {
      const char* forced = std::getenv("OPENBLAS_CORETYPE");
      std::printf("blas kernels  %s (%s)\n", r.blas_core.c_str(),
                  forced ? "OPENBLAS_CORETYPE" : "chosen by OpenBLAS for this CPU");
    }
    std::printf("sgemm peak    %.1f GFLOP/s on %d threads (best of %d trials, %d^2; median %.1f)\n", r.sgemm_gflops,
                r.sgemm_threads, r.sgemm_trials, r.sgemm_n, r.sgemm_median_gflops);
  });
}

}  // namespace medforget::cli
