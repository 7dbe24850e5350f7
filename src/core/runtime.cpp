#include "core/runtime.hpp"

#include <fstream>

#include "core/progress.hpp"

namespace medforget {

std::string loaded_blas_library() {
  // libtorch maps both libblas.so.3 (whatever the alternatives link or
  // LD_LIBRARY_PATH resolves to) and libopenblas.so.0; sgemm binds to the
  // former, so a mapped reference libblas decides the verdict.
  std::ifstream maps("/proc/self/maps");
  std::string line, reference, other;
  while (std::getline(maps, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    auto base = path.substr(path.rfind('/') + 1);
    bool blasish = base.find("blas") != std::string::npos || base.find("mkl_rt") != std::string::npos ||
                   base.find("libmkl") != std::string::npos;
    if (!blasish) continue;
    if (blas_kind_of(path) == "reference") reference = path;
    else if (other.empty() || base.find("openblas") != std::string::npos) other = path;
  }
  return reference.empty() ? other : reference;
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
