#!/usr/bin/env bash
# Builds medforget against a CUDA libtorch 2.x and checks it on the GPU: the whole
# test suite (tests/model/cuda_test.cpp runs every stage on the GPU and compares it
# with the CPU) and, with RUN_MAIN_JOB=1, the main job on `--device cuda`.
#
#   bash scripts/cuda_check.sh
#
# For a machine that has CUDA, a C++ compiler, CMake and the non-Debian-12 world
# (not run by CI, which has no GPU). The libtorch is $TORCH_PREFIX, else the one
# in python3's PyTorch wheel (torch.utils.cmake_prefix_path); OpenCV is the
# system's or $OPENCV_DIR (a prefix holding lib/cmake/opencv4). The other
# libraries are found as in the normal build. Logs go to $BUILD_DIR/logs.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-cuda}
if [ -z "${TORCH_PREFIX:-}" ]; then
  TORCH_PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) ||
    { echo "[cuda] set TORCH_PREFIX to a CUDA libtorch (no python3 PyTorch found)" >&2; exit 1; }
fi
PREFIX="$TORCH_PREFIX${OPENCV_DIR:+;$OPENCV_DIR}"
mkdir -p "$BUILD_DIR/logs"
LOGS=$(cd "$BUILD_DIR/logs" && pwd)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$LOGS/gpu.txt" || true

t0=$(date +%s)
# The compiler: $CHECK_CXX, else the g++ on PATH (not $CXX). PyTorch's libtorch
# exports a static copy of libstdc++ (pytorch/pytorch#133437); a compiler whose
# libstdc++ is static too (as /opt/gcc's on the GPU machine here) leaves
# libtorch's copy serving our std::filesystem calls, and its remove_all crashes.
CHECK_CXX=${CHECK_CXX:-$(command -v g++)}
# CMake 4 refuses config files that ask for CMake < 3.5 (OpenCV 4.6's do).
CMAKE_POLICY_VERSION_MINIMUM=3.5 cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER="$CHECK_CXX" -DCMAKE_PREFIX_PATH="$PREFIX" > "$LOGS/configure.log" 2>&1 ||
  { tail -40 "$LOGS/configure.log"; exit 1; }
grep -E "CUDA|Torch|BLAS|libstdc" "$LOGS/configure.log" | head -20 || true
cmake --build "$BUILD_DIR" -j "$(nproc)" > "$LOGS/build.log" 2>&1 || { grep -B2 -A12 "error" "$LOGS/build.log" | head -80; exit 1; }
echo "[cuda] built in $(( $(date +%s) - t0 )) s"
"$BUILD_DIR/medforget" doctor 2>&1 | tee "$LOGS/doctor.txt" || true

t0=$(date +%s)
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$(nproc)" --timeout 900 > "$LOGS/ctest.log" 2>&1) && rc=0 || rc=$?
grep -E "tests passed|tests failed|Total Test time|\*\*\*Failed|Not Run|Skipped" "$LOGS/ctest.log" | tail -20
echo "[cuda] test suite: exit $rc in $(( $(date +%s) - t0 )) s"
[ "$rc" = 0 ] || exit "$rc"

if [ "${RUN_MAIN_JOB:-0}" = 1 ]; then
  t0=$(date +%s)
  "$BUILD_DIR/medforget" run --preset small --device cuda --out "${RUN_OUT:-out/small-cuda}" 2>&1 | tee "$LOGS/run.log" | tail -60
  echo "[cuda] main job on the GPU: $(( $(date +%s) - t0 )) s"
fi
