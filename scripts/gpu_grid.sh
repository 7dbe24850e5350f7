#!/usr/bin/env bash
# Goes on with the `paper` grid on a GPU machine lent for a short while (a CUDA
# libtorch in python3's PyTorch, no OpenCV for C++, no network), from the records
# kept in the repository, and brings the new records back. Three steps:
#
#   bash scripts/gpu_grid.sh prepare          # here (needs deb.debian.org): OpenCV's
#                                             # source, trimmed to 3 modules, into .devkit/
#   bash scripts/gpu_grid.sh start [JOBS]     # there: build OpenCV and medforget (about
#                                             # 3.5 min on 16 cores), restore the records,
#                                             # start the grid in its own session
#   bash scripts/gpu_grid.sh poll SECS DEST   # there: wait up to SECS (or the grid's end),
#                                             # then status, log and records into DEST
#
# DEST's records.tgz unpacks over docs/grid-paper/records (tar xzf ... -C that dir).
# `.devkit/` must be ignored by git (echo /.devkit/ >> .git/info/exclude) and carried
# to the GPU machine. Measured in docs/RESULTS.md, "The `paper` grid on an H100".
set -uo pipefail
cd "$(dirname "$0")/.."
RECORDS=docs/grid-paper/records
RUN=/tmp/grid/paper
case "${1:-}" in
prepare)
  set -e
  mkdir -p .devkit /tmp/ocv-src
  [ -f /tmp/ocv-src/opencv.tar.xz ] ||
    curl -fsS --max-time 600 -o /tmp/ocv-src/opencv.tar.xz \
      http://deb.debian.org/debian/pool/main/o/opencv/opencv_4.6.0+dfsg.orig.tar.xz
  rm -rf /tmp/ocv-src/trim && mkdir -p /tmp/ocv-src/trim
  tar xf /tmp/ocv-src/opencv.tar.xz -C /tmp/ocv-src/trim --strip-components=1
  cd /tmp/ocv-src/trim
  # 168 MB of source; the build needs the CMake scripts and three modules (and the
  # CMakeLists of doc/ and data/, which the top level adds unconditionally).
  rm -rf samples
  for d in doc data; do mv "$d/CMakeLists.txt" "../$d.cmake" && rm -rf "$d" && mkdir "$d" && mv "../$d.cmake" "$d/CMakeLists.txt"; done
  (cd modules && ls | grep -vxE "core|imgproc|imgcodecs" | xargs rm -rf)
  find modules -maxdepth 2 -type d \( -name test -o -name perf -o -name misc -o -name doc \) -exec rm -rf {} +
  cd - > /dev/null
  tar czf .devkit/opencv-trim.tgz -C /tmp/ocv-src/trim .
  ls -la .devkit/opencv-trim.tgz
  ;;
start)
  t0=$(date +%s)
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  mkdir -p /tmp/ocvsrc && tar xzf .devkit/opencv-trim.tgz -C /tmp/ocvsrc
  bash scripts/build_opencv_min.sh /tmp/ocvsrc /tmp/ocvi > /tmp/ocv.log 2>&1 || { tail -40 /tmp/ocv.log; exit 1; }
  echo "[gpu_grid] OpenCV in $(( $(date +%s) - t0 )) s"
  TORCH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)') || exit 1
  # The shared libstdc++ first: see scripts/cuda_check.sh.
  CMAKE_POLICY_VERSION_MINIMUM=3.5 cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_COMPILER="${CHECK_CXX:-$(command -v g++)}" -DCMAKE_PREFIX_PATH="$TORCH;/tmp/ocvi" > /tmp/cfg.log 2>&1 ||
    { tail -40 /tmp/cfg.log; exit 1; }
  cmake --build build-cuda -j "$(nproc)" --target medforget > /tmp/build.log 2>&1 ||
    { grep -B2 -A12 error /tmp/build.log | head -80; exit 1; }
  echo "[gpu_grid] medforget built at $(( $(date +%s) - t0 )) s"
  bash scripts/grid_restore.sh "$RECORDS" "$RUN" || exit 1
  setsid nohup ./build-cuda/medforget grid --out "$RUN" --device cuda --jobs "${2:-12}" > /tmp/grid.log 2>&1 < /dev/null &
  sleep 20
  tail -5 /tmp/grid.log
  ;;
poll)
  [ $# -eq 3 ] || { echo "usage: $0 poll SECS DEST" >&2; exit 2; }
  end=$(( $(date +%s) + $2 ))
  while [ "$(date +%s)" -lt "$end" ] && pgrep -f "medforget grid" > /dev/null; do sleep 5; done
  pgrep -f "medforget grid" > /dev/null && echo "[gpu_grid] still running" || echo "[gpu_grid] the grid process ended"
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader
  mkdir -p "$3"
  ./build-cuda/medforget grid --out "$RUN" --status > "$3/status.txt" 2>&1
  grep -v "^  pending" "$3/status.txt" | tail -30
  tail -8 /tmp/grid.log
  cp /tmp/grid.log "$3/grid.log"
  rm -rf /tmp/rec && bash scripts/grid_records.sh "$RUN" /tmp/rec > /dev/null && tar czf "$3/records.tgz" -C /tmp/rec --exclude=./models .
  ls -la "$3"
  ;;
*)
  echo "usage: $0 prepare | start [JOBS] | poll SECS DEST" >&2
  exit 2
  ;;
esac
