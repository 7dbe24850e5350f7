#!/usr/bin/env bash
# Puts the records kept by scripts/grid_records.sh back into a run directory, so
# that a grid whose machine is gone goes on where it was on another machine:
#   bash scripts/grid_restore.sh RECORDS RUN_DIR [WEIGHTS_DIR]
#   medforget grid --out RUN_DIR [--device cpu|cuda]
# Finished measurements come back as finished stages, and the stage ledger as it
# was. Models are not in the records (RECORDS/models/M holds a model's manifest and
# the sha256 of its files, not its weights): a checkpoint directory M kept
# elsewhere, WEIGHTS_DIR/M, is copied into RUN_DIR/models/M when its files match
# RECORDS/models/M/SHA256SUMS (records written with the weights, as before these
# sums, are copied as they are). A stage whose output is not restored (a model
# without its weights, the benchmark) is "kept" in the ledger: it runs again only
# when a stage that reads it still has to run; if its new output differs (training
# is not bit-reproducible across kernels, thread counts or devices), what was done
# on the old one runs again too. Without the fine-tuned model (vanilla) that is
# every unlearning and measurement still reading it, once any of them has to run.
# `medforget grid --out RUN_DIR --status` shows which are kept;
# `medforget grid --out RUN_DIR` goes on with the restored run_config.json.
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ] || [ ! -f "$1/run_config.json" ] || [ ! -d "$1/stages" ]; then
  echo "usage: $0 RECORDS RUN_DIR [WEIGHTS_DIR]  (RECORDS: a folder written by scripts/grid_records.sh;" \
       "WEIGHTS_DIR: a folder of kept checkpoint directories, e.g. an old RUN_DIR/models)" >&2
  exit 2
fi
rec=$1 out=$2 weights=${3:-}
# The same grid, wherever it ran: the device is not part of what a stage computes.
same_config() { cmp -s <(grep -v '"device"' "$1") <(grep -v '"device"' "$2"); }
if [ -f "$out/run_config.json" ] && ! same_config "$rec/run_config.json" "$out/run_config.json"; then
  echo "$0: $out already holds a run with another configuration; restore into a new directory" >&2
  exit 1
fi
mkdir -p "$out/.stages"
[ -f "$out/run_config.json" ] || cp "$rec/run_config.json" "$out/"
n=0 old=0
for f in "$rec"/stages/*.json; do
  [ -f "$f" ] || continue
  grep -q '"digest"' "$f" || old=$((old + 1))
  [ -f "$out/.stages/$(basename "$f")" ] || { cp "$f" "$out/.stages/"; n=$((n + 1)); }
done
if [ "$old" -gt 0 ]; then
  echo "[grid_restore] warning: $old ledger entries predate output digests and the current stage keys" \
       "(records written before commit ec5263b): those stages will run again" >&2
fi
m=0
for kind in eval attack mia; do
  [ -d "$rec/$kind" ] || continue
  for d in "$rec/$kind"/*/; do
    d=${d%/}
    [ -f "$d/manifest.json" ] || continue
    [ -e "$out/$kind/$(basename "$d")" ] && continue  # what the directory has is newer
    mkdir -p "$out/$kind"
    cp -r "$d" "$out/$kind/"
    m=$((m + 1))
  done
done
# Models: only whole checkpoints, checked against the recorded sums. A manifest
# without its weights must not land in RUN_DIR/models: it would read as finished.
w=0 missing=()
if [ -d "$rec/models" ]; then
  for d in "$rec"/models/*/; do
    d=${d%/}
    name=$(basename "$d")
    [ -f "$d/manifest.json" ] || continue
    [ -e "$out/models/$name" ] && continue  # what the directory has is newer
    got="" sums=$(cd "$d" && pwd)/SHA256SUMS
    for c in ${weights:+"$weights/$name"} "$d"; do
      [ -f "$c/model.safetensors" ] || continue
      if [ -f "$sums" ] && ! (cd "$c" && sha256sum --quiet --strict -c "$sums" > /dev/null 2>&1); then
        echo "[grid_restore] warning: $c does not match $d/SHA256SUMS; not used" >&2
        continue
      fi
      got=$c
      break
    done
    if [ -z "$got" ]; then
      missing+=("$name")
      continue
    fi
    mkdir -p "$out/models"
    rm -rf "$out/models/.$name.new"
    cp -r "$got" "$out/models/.$name.new"
    rm -f "$out/models/.$name.new/SHA256SUMS"
    mv "$out/models/.$name.new" "$out/models/$name"
    w=$((w + 1))
  done
fi
echo "[grid_restore] $n ledger entries, $m finished directories and $w models from $rec into $out"
for name in ${missing[@]+"${missing[@]}"}; do
  stage="unlearn/$name"
  [ "$name" = vanilla ] && stage=finetune
  echo "[grid_restore] $name: its weights are not here (recorded: $rec/models/$name/SHA256SUMS);" \
       "stage $stage makes it again if a stage that reads it has to run" >&2
done
