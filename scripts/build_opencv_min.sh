#!/usr/bin/env bash
# A minimal static OpenCV (core, imgproc, imgcodecs with the system's libpng and
# libjpeg) for machines without OpenCV's C++ packages, as the GPU machine used for
# scripts/cuda_check.sh was (docs/RESULTS.md, "CUDA"). Then:
#   OPENCV_DIR=PREFIX bash scripts/cuda_check.sh
#
#   bash scripts/build_opencv_min.sh SOURCE_DIR [PREFIX]     (PREFIX default /tmp/opencv-min)
#
# SOURCE_DIR is an OpenCV 4.x source tree, e.g. Debian's
# http://deb.debian.org/debian/pool/main/o/opencv/opencv_4.6.0+dfsg.orig.tar.xz unpacked
# (74 MB; only three modules are compiled: about 70 s on 16 cores, 15 min on 2).
set -euo pipefail
SRC=${1:?usage: build_opencv_min.sh SOURCE_DIR [PREFIX]}
PREFIX=${2:-/tmp/opencv-min}
BUILD=$(mktemp -d)
off=(IPP ITT OPENCL TIFF WEBP OPENEXR JASPER OPENJPEG GDAL GDCM TBB EIGEN LAPACK PROTOBUF ADE QUIRC FFMPEG GTK V4L
     1394 CUDA OPENMP VA)
flags=()
for w in "${off[@]}"; do flags+=("-DWITH_$w=OFF"); done
# CMake 4 refuses OpenCV 4.6's cmake_minimum_required; the policy floor lets it through.
CMAKE_POLICY_VERSION_MINIMUM=3.5 cmake -S "$SRC" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_LIST=core,imgproc,imgcodecs -DBUILD_SHARED_LIBS=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DWITH_PNG=ON -DBUILD_PNG=OFF -DWITH_JPEG=ON -DBUILD_JPEG=OFF -DBUILD_ZLIB=OFF "${flags[@]}" \
  -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF -DBUILD_DOCS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_opencv_apps=OFF \
  -DBUILD_JAVA=OFF -DBUILD_opencv_python3=OFF -DOPENCV_GENERATE_PKGCONFIG=OFF \
  -DCMAKE_INSTALL_PREFIX="$PREFIX" > "$BUILD/configure.log" 2>&1 || { tail -30 "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" -j "$(nproc)" --target install > "$BUILD/build.log" 2>&1 || { tail -30 "$BUILD/build.log"; exit 1; }
rm -rf "$BUILD"
echo "[opencv] core, imgproc, imgcodecs installed in $PREFIX"
