#!/usr/bin/env bash
# On the GPU machine (python3 with torch + transformers + safetensors, no network): loads
# tests/fixtures/hf/export_a (made by scripts/make_export_fixture.sh) into transformers and
# writes $OUT/export_a_ref.safetensors, to be committed as tests/fixtures/hf/export_a_ref.safetensors.
#   OUT=DIR bash scripts/hf_export_check.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/hfexport}
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 CUDA_VISIBLE_DEVICES="" PYTHONUNBUFFERED=1
timeout 120 python3 "$ROOT/scripts/hf_export_check.py" "$ROOT/tests/fixtures/hf/export_a" \
  "$ROOT/tests/fixtures/hf/model_a_ref.safetensors" "$OUT/export_a_ref.safetensors" 2>&1 | tee "$OUT/hf_export_check.log"
