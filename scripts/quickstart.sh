#!/usr/bin/env bash
# README command 1: install what is missing, build, run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
OUT=${OUT:-out/small}
./build/medforget data build --preset small --seed 1 --out "$OUT"
./build/medforget data check "$OUT"
