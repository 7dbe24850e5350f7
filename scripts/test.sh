#!/usr/bin/env bash
# README command 2: install what is missing, build, run the whole test suite.
#   --sanitize   the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#                (into build-sanitize/; any report fails the test that triggered it)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ "${1:-}" = "--sanitize" ]; then
  export BUILD_DIR=build-sanitize BUILD_TYPE=RelWithDebInfo
  export MEDFORGET_CMAKE_ARGS="-DMEDFORGET_SANITIZE=ON -DMEDFORGET_BENCH=OFF"
  # Leaks inside libtorch's and OpenBLAS's static state are not medforget's: LeakSanitizer
  # stays off; heap overflows, use-after-free, double free and undefined behaviour abort.
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:detect_odr_violation=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
fi
bash scripts/build.sh
cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "$(nproc)" --timeout 600
