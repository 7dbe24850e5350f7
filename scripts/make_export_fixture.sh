#!/usr/bin/env bash
# Makes tests/fixtures/hf/export_a: transformers' tiny random model A (tests/fixtures/hf/model_a)
# with a byte-level BPE tokenizer in its id layout, unlearned at the patient level with CHIP on the
# `tiny` benchmark, and exported by `medforget export`. scripts/hf_reference.py then loads it into
# transformers on the GPU machine and records transformers' logits on model A's batch inputs
# (export_a_ref.safetensors), which HfWorkflow.ExportLoadsIntoTransformersWithMedforgetsLogits
# compares with medforget's own.  bash scripts/make_export_fixture.sh [BUILD_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MF=${1:-$ROOT/build}/medforget
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$MF" data build --preset tiny --seed 3 --out "$W/bench" > /dev/null
cp -r "$ROOT/tests/fixtures/hf/model_a" "$W/qwen"
"$MF" tokenizer train --bench "$W/bench" --vocab-size 592 --out "$W/tok.json" > /dev/null
# The fixture's id layout: 1 <|endoftext|>, 2 <|im_start|>, 3 <|im_end|>, 4-7 the vision
# markers, the trained vocabulary from 8.
python3 - "$W/tok.json" "$W/qwen/tokenizer.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|image_pad|>", "<|vision_end|>", "<|video_pad|>"]
vocab = {"<|placeholder|>": 0}
vocab.update({s: i + 1 for i, s in enumerate(specials)})
vocab.update({k: v + 8 for k, v in t["model"]["vocab"].items()})
t["model"]["vocab"] = vocab
t["added_tokens"] = [{"id": i + 1, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True} for i, s in enumerate(specials)]
json.dump(t, open(sys.argv[2], "w"), ensure_ascii=False, indent=1)
PY
"$MF" unlearn --model "$W/qwen" --bench "$W/bench" --level patient --method chip --out "$W/u" > /dev/null
rm -rf "$ROOT/tests/fixtures/hf/export_a"
"$MF" export --model "$W/u" --out "$ROOT/tests/fixtures/hf/export_a"
rm -f "$ROOT/tests/fixtures/hf/export_a/manifest.json"
( cd "$ROOT/tests/fixtures/hf/export_a" && sha256sum model.safetensors )
