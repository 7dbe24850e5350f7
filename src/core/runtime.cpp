#include "core/runtime.hpp"

#include <fstream>
#include <vector>

#include "core/progress.hpp"

namespace medforget {

std::string pick_blas_library(const std::vector<std::string>& mapped_paths) {
  // libtorch maps both libblas.so.3 (whatever the alternatives link or
  // LD_LIBRARY_PATH resolves to) and libopenblas.so.0; sgemm binds to the
  // former, so a mapped reference libblas decides the verdict. GPU BLAS
  // libraries (cuBLAS, hipBLAS, rocBLAS) never run a CPU sgemm.
  std::string reference, other;
  for (const auto& path : mapped_paths) {
    auto base = path.substr(path.rfind('/') + 1);
    bool blasish = base.find("blas") != std::string::npos || base.find("mkl_rt") != std::string::npos ||
                   base.find("libmkl") != std::string::npos;
    bool gpu = base.find("cublas") != std::string::npos || base.find("hipblas") != std::string::npos ||
               base.find("rocblas") != std::string::npos;
    if (!blasish || gpu) continue;
    if (blas_kind_of(path) == "reference") reference = path;
    else if (other.empty() || base.find("openblas") != std::string::npos) other = path;
  }
  return reference.empty() ? other : reference;
}

std::string loaded_blas_library() {
  std::ifstream maps("/proc/self/maps");
  std::vector<std::string> paths;
  std::string line;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash != std::string::npos) paths.push_back(line.substr(slash));
  }
  return pick_blas_library(paths);
}

std::string blas_kind_of(const std::string& path) {
  if (path.empty()) return "unknown";
  if (path.find("openblas") != std::string::npos) return "openblas";
  if (path.find("mkl") != std::string::npos) return "mkl";
  if (path.find("blis") != std::string::npos) return "blis";
  if (path.find("atlas") != std::string::npos) return "atlas";
  if (path.find("/blas/libblas") != std::string::npos) return "reference";
  return "unknown";
}

void warn_if_reference_blas() {
  std::string lib = loaded_blas_library();
  if (blas_kind_of(lib) == "reference")
    log_warn("the reference BLAS (" + lib +
             ") is loaded: matrix products run about 20x slower. Install libopenblas0-pthread "
             "(bash scripts/setup.sh) and make sure LD_LIBRARY_PATH does not point at it.");
}

}  // namespace medforget
