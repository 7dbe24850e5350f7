#!/usr/bin/env bash
# Puts the records kept by scripts/grid_records.sh back into a run directory, so
# that a grid whose machine is gone goes on where it was on another machine:
#   bash scripts/grid_restore.sh RECORDS RUN_DIR
#   medforget grid --out RUN_DIR [--device cpu|cuda]
# Finished measurements come back as finished stages, the stage ledger as it was,
# and the models kept in RECORDS/models (the fine-tuned model at least). A stage
# whose output was not kept (an unlearned model, the benchmark) is "kept" in the
# ledger: it runs again only when a stage that reads it still has to run; if its
# new output differs (training is not bit-reproducible), what was done on the old
# one runs again too. `medforget grid --out RUN_DIR --status` shows which are kept;
# `medforget grid --out RUN_DIR` goes on with the restored run_config.json.
set -euo pipefail
if [ $# -ne 2 ] || [ ! -f "$1/run_config.json" ] || [ ! -d "$1/stages" ]; then
  echo "usage: $0 RECORDS RUN_DIR  (RECORDS: a folder written by scripts/grid_records.sh)" >&2
  exit 2
fi
rec=$1 out=$2
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
for kind in eval attack mia models; do
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
echo "[grid_restore] $n ledger entries and $m finished directories from $rec into $out"
