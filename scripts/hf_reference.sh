#!/usr/bin/env bash
# Produces the Hugging Face reference fixtures for Qwen2.5-VL parity (tests/fixtures/hf/) by running
# scripts/hf_reference.py once, offline, on the CPU, on a machine with python3 + torch + transformers 5.x
# + peft + safetensors + numpy. Writes two files into $OUT (default /tmp/hfref):
#
#   hf_reference.tar.gz   the fixture directory "hf/" (models, adapters, *_ref.safetensors, meta.json, README.md)
#   hf_reference.log      everything the script printed (versions, checks, full tracebacks of failed sections)
#
#   OUT=/some/dir bash scripts/hf_reference.sh
#
# The tarball is written even when a section failed (meta.json says which). Exit status: the script's
# (0 all passed, 2 an optional step or a check failed, 1 a section failed, 124 the 150 s timeout).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${OUT:-/tmp/hfref}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false HF_HUB_DISABLE_TELEMETRY=1
export CUDA_VISIBLE_DEVICES=""            # CPU only: deterministic float32 reference math
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-8}"

{
  echo "hf_reference.sh: $(date -u +%Y-%m-%dT%H:%M:%SZ) host=$(hostname) python3=$(command -v python3 || echo none)"
} > "$out/hf_reference.log"

timeout 150 python3 "$here/hf_reference.py" "$work/hf" 2>&1 | tee -a "$out/hf_reference.log"
rc=${PIPESTATUS[0]}
echo "hf_reference.py exit status: $rc (124 = killed by the 150 s timeout)" | tee -a "$out/hf_reference.log"

if [ -d "$work/hf" ]; then
  tar czf "$out/hf_reference.tar.gz" -C "$work" hf
  echo "wrote $out/hf_reference.tar.gz ($(du -k "$out/hf_reference.tar.gz" | cut -f1) KiB; fixture dir $(du -sk "$work/hf" | cut -f1) KiB)" \
    | tee -a "$out/hf_reference.log"
else
  echo "no fixture directory was produced" | tee -a "$out/hf_reference.log"
fi
exit "$rc"
