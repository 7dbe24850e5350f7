#!/usr/bin/env bash
# Copies the small records of a run or grid directory (each finished stage's
# summary.json / attack.json / mia.json, manifests, the stage ledger with wall
# times and peak RSS, run_config.json) into DEST, leaving models and per-item
# JSONL behind. `medforget report --out R DEST/eval DEST/attack DEST/mia` rebuilds
# every table and figure from DEST alone: the results outlive the grid's machine.
# MODEL names (e.g. vanilla, retrain-patient) are models to describe, not to copy:
# DEST/models/MODEL gets the checkpoint's manifest.json, provenance.json and
# config.json and SHA256SUMS, the sha256 of every file of the checkpoint (its
# weights included). Model weights do not belong in git; keep the checkpoint
# directory elsewhere if the grid is to go on from it, and scripts/grid_restore.sh
# RECORDS RUN_DIR WEIGHTS_DIR puts it back once it matches SHA256SUMS.
# Usage: scripts/grid_records.sh RUN_DIR DEST [MODEL...]
set -euo pipefail
if [ $# -lt 2 ] || [ ! -f "$1/run_config.json" ]; then
  echo "usage: $0 RUN_DIR DEST [MODEL...]  (RUN_DIR: a medforget run/grid output with run_config.json)" >&2
  exit 2
fi
src=$1 dest=$2
shift 2
for m in "$@"; do
  [ -f "$src/models/$m/manifest.json" ] || { echo "$0: $src/models/$m is not a finished model" >&2; exit 1; }
done
mkdir -p "$dest"
cp "$src/run_config.json" "$dest/"
mkdir -p "$dest/stages"
for f in "$src"/.stages/*.json; do  # finished stages only: a running one's entry has no time yet
  [ -f "$f" ] && grep -q '"state": *"done"' "$f" && cp "$f" "$dest/stages/"
done
n=0
for kind in eval attack mia; do
  [ -d "$src/$kind" ] || continue
  for d in "$src/$kind"/*/; do
    d=${d%/}
    [ -f "$d/manifest.json" ] || continue  # unfinished
    name=$(basename "$d")
    mkdir -p "$dest/$kind/$name"
    for f in summary.json attack.json mia.json manifest.json; do
      [ -f "$d/$f" ] && cp "$d/$f" "$dest/$kind/$name/"
    done
    n=$((n + 1))
  done
done
for m in "$@"; do  # the description replaces the kept one only once it is whole
  mkdir -p "$dest/models"
  rm -rf "$dest/models/.$m.new"
  mkdir "$dest/models/.$m.new"
  for f in manifest.json provenance.json config.json; do
    [ -f "$src/models/$m/$f" ] && cp "$src/models/$m/$f" "$dest/models/.$m.new/"
  done
  (cd "$src/models/$m" && find . -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' sha256sum) \
    > "$dest/models/.$m.new/SHA256SUMS"
  rm -rf "$dest/models/$m"
  mv "$dest/models/.$m.new" "$dest/models/$m"
done
echo "[grid_records] $n finished measurement directories${1:+ and the manifests and sha256 of models: $*} from $src into $dest"
