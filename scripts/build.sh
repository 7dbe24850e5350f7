#!/usr/bin/env bash
# Configures and builds medforget (Release) into ${BUILD_DIR:-build}.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
GEN=""; command -v ninja >/dev/null && GEN="-G Ninja"
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD_DIR" $GEN -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} ${MEDFORGET_CMAKE_ARGS:-}
fi
cmake --build "$BUILD_DIR" -j "$(nproc)"
