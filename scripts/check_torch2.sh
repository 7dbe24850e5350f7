#!/usr/bin/env bash
# Compiles every medforget source against libtorch 2.x headers: Debian trixie's
# libtorch-dev, downloaded and unpacked into a work directory, never installed
# (this Debian 12 machine cannot run trixie's libraries: they need a newer glibc).
# The link step then resolves every libtorch symbol the CLI uses against
# trixie's libtorch_cpu.so. Needs network access to deb.debian.org.
#
#   bash scripts/check_torch2.sh [WORKDIR]     (default /tmp/medforget-torch2)
#
# Exit status 0 only when every file compiles and the CLI links.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${1:-/tmp/medforget-torch2}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=${TORCH2_SUITE:-trixie}
mkdir -p "$WORK"
ROOT="$WORK/root"

fetch() {  # fetch PACKAGE: download and unpack one binary package of $SUITE
  local f
  f=$(awk -v p="$1" '$0=="Package: "p{f=1} f&&/^Filename:/{print $2; exit}' "$WORK/Packages")
  [ -n "$f" ] || { echo "[torch2] $1 is not in $SUITE" >&2; exit 1; }
  [ -f "$WORK/$(basename "$f")" ] || curl -fsS --max-time 600 -o "$WORK/$(basename "$f")" "$MIRROR/$f"
  dpkg -x "$WORK/$(basename "$f")" "$ROOT"
}

if [ ! -f "$WORK/Packages" ]; then
  echo "[torch2] reading the $SUITE package index"
  curl -fsS --max-time 120 -o "$WORK/Packages.xz" "$MIRROR/dists/$SUITE/main/binary-amd64/Packages.xz"
  xz -d -f "$WORK/Packages.xz"
fi
if [ ! -f "$ROOT/usr/include/torch/csrc/api/include/torch/version.h" ]; then
  echo "[torch2] unpacking libtorch-dev and libtorch from $SUITE"
  fetch libtorch-dev
  lib=$(awk '/^Package: libtorch2\./{print $2}' "$WORK/Packages" | sort -V | tail -1)
  fetch "$lib"
fi
INC="$ROOT/usr/include"
VERSION=$(awk '/define TORCH_VERSION_(MAJOR|MINOR|PATCH)/{printf "%s%s", sep, $3; sep="."}' \
          "$INC/torch/csrc/api/include/torch/version.h")
case "$VERSION" in 2.*) ;; *) echo "[torch2] expected libtorch 2.x, found $VERSION" >&2; exit 1 ;; esac
echo "[torch2] libtorch $VERSION headers in $INC"

FLAGS=(-std=gnu++20 -O0 -D_GLIBCXX_USE_CXX11_ABI=1 -Wall -Wextra -Wno-unused-parameter
       -Isrc -Itests -isystem "$INC" -isystem "$INC/torch/csrc/api/include" -isystem /usr/include/opencv4
       -DMEDFORGET_BIN=\"medforget\" -DMEDFORGET_SOURCE_DIR=\"$PWD\" -DMEDFORGET_TEST_CACHE=\"$WORK/cache\")
# One precompiled <torch/torch.h> for all files, as the real build does.
PCH="$WORK/pch/torch_pch.hpp"
mkdir -p "$WORK/pch" "$WORK/obj"
echo '#include <torch/torch.h>' > "$PCH"
if [ ! -f "$PCH.gch" ] || [ "$PCH.gch" -ot "$INC/torch/csrc/api/include/torch/version.h" ]; then
  echo "[torch2] precompiling <torch/torch.h>"
  g++ "${FLAGS[@]}" -x c++-header "$PCH" -o "$PCH.gch"
fi

# Every library file (the CLI links them all) and the tests and benchmarks that
# use libtorch; the torch-free tests cannot see the difference.
uses_torch() {
  case "$1" in
    src/core/torch_* | src/text/* | src/model/* | src/train/* | src/unlearn/* | src/eval/torch_* | \
    src/report/torch_* | src/pipeline/* | src/cli/* | bench/*) return 0 ;;
    tests/core/torch_* | tests/text/* | tests/model/* | tests/train/* | tests/unlearn/* | \
    tests/eval/torch_* | tests/report/torch_* | tests/pipeline/* | tests/test_util.cpp) return 0 ;;
  esac
  return 1
}
mapfile -t FILES < <(ls src/*/*.cpp tests/*/*.cpp tests/*.cpp bench/*.cpp | sort |
                     while read -r f; do case "$f" in src/*) echo "$f" ;; *) uses_torch "$f" && echo "$f" ;; esac; done)
fail=0; n=0
compile() {  # compile SRC OBJ
  local pch=()
  uses_torch "$1" && pch=(-include "$PCH")
  g++ "${FLAGS[@]}" "${pch[@]}" -c "$1" -o "$2" 2> "$2.log" || { echo "[torch2] FAILED $1"; cat "$2.log"; return 1; }
}
for f in "${FILES[@]}"; do
  obj="$WORK/obj/$(echo "$f" | tr / _).o"
  n=$((n + 1))
  printf '\r[torch2] compiling %d/%d %-60s' "$n" "${#FILES[@]}" "$f"
  if [ ! -f "$obj" ] || [ "$obj" -ot "$f" ]; then compile "$f" "$obj" || fail=1; fi
done
echo
[ "$fail" = 0 ] || { echo "[torch2] some files do not compile against libtorch $VERSION"; exit 1; }

# Link the CLI: every libtorch symbol it references must exist in libtorch 2.x.
# Trixie's own dependencies (newer glibc and the rest) are not here, so
# undefined symbols inside those shared libraries are allowed.
LIB="$ROOT/usr/lib/x86_64-linux-gnu"
mapfile -t CLI_OBJS < <(for f in "${FILES[@]}"; do case "$f" in src/*) echo "$WORK/obj/$(echo "$f" | tr / _).o" ;; esac; done)
echo "[torch2] linking the CLI against $LIB/libtorch_cpu.so"
g++ -o "$WORK/medforget" "${CLI_OBJS[@]}" -L"$LIB" -ltorch_cpu -lc10 -Wl,--unresolved-symbols=ignore-in-shared-libs \
    $(pkg-config --libs opencv4) -lssl -lcrypto -lz -lcurl -ldl -lpthread 2> "$WORK/link.log" \
  || { echo "[torch2] link FAILED"; grep -v "needed by\|not found (try using -rpath" "$WORK/link.log" | head -40; exit 1; }
echo "[torch2] OK: ${#FILES[@]} files compile and the CLI links against libtorch $VERSION"
