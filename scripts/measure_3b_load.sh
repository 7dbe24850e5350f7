#!/usr/bin/env bash
# Qwen2.5-VL-3B's configuration on this CPU: a randomly initialised bf16
# checkpoint written by medforget (about 7.5 GB), then loaded and run once over an
# image and a question (`eval --limit 1`), with load time and peak RSS
# (docs/RESULTS.md, "Real-model scale").
#   bash scripts/measure_3b_load.sh [WORKDIR]   (default /tmp/mf-3b; needs ~20 GB RAM, 8 GB disk)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${1:-/tmp/mf-3b}
MF=$ROOT/build/medforget
TOK=$ROOT/build/test-cache/qwen_tokenizer
[ -f "$TOK/tokenizer.json" ] || bash "$ROOT/scripts/tokenizer_vectors.sh" fetch
mkdir -p "$W"
[ -d "$W/bench" ] || "$MF" data build --preset tiny --seed 1 --out "$W/bench"
if [ ! -f "$W/model/manifest.json" ]; then
  /usr/bin/time -v "$MF" init --config "$ROOT/bench/configs/qwen2_5_vl_3b.json" --tokenizer "$TOK" \
    --dtype bf16 --out "$W/model" 2> "$W/init.time"
fi
du -sb "$W/model/model.safetensors" | tee "$W/size.txt"
sha256sum "$W/model/model.safetensors" | tee "$W/sha256.txt"
rm -rf "$W/eval"
/usr/bin/time -v "$MF" eval --model "$W/model" --bench "$W/bench" --file general.jsonl --limit 1 \
  --max-new-tokens 1 --batch-size 1 --dtype bf16 --out "$W/eval" 2>&1 | tee "$W/eval.log"
grep -E "model: loaded|Maximum resident|Elapsed" "$W/eval.log"
