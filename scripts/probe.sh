#!/usr/bin/env bash
# Probe medforget with bad inputs and faults, the way a new user would meet them,
# and classify what each command does.
#
#   bash scripts/probe.sh [BIN]          # BIN defaults to build/medforget
#   PROBE_OUT=probe.txt bash scripts/probe.sh   # also write the table there
#
# Every case is a command and what it must not do. Its class:
#   crash      killed by a signal, exit status >= 128, or "terminate called",
#              "Segmentation", "Aborted", "core dumped" in its output;
#   data-loss  a protected path (the user's files, the command's inputs, other
#              directories) changed or vanished, or a file appeared outside --out;
#   silent     exit 0 (or no answer within the time limit) where an error was
#              expected, or a wrong result accepted without a word;
#   clear      non-zero exit with an error line that names the offending path,
#              option or value (a pattern per case);
#   ok         an expected success, checked;
#   unclear    non-zero exit where an error was expected, but the error line does
#              not name what is wrong (the pattern does not match);
#   failed     an error where success was expected.
# The table goes to stdout (and $PROBE_OUT), then the output of every case that
# is not clear/ok, then the counts. Exit status 1 when any case is data-loss,
# crash, silent, unclear or failed.
#
# Works in a fresh mktemp -d directory (removed at the end; PROBE_KEEP=1 keeps it),
# on a copy of BIN taken at the start (a rebuild meanwhile does not change what is
# probed), with MEDFORGET_THREADS=1, MEDFORGET_QUIET=1 and MEDFORGET_CACHE inside
# it. Everything uses --preset tiny: about 4.5 minutes on a 2-core machine, 6.5 with
# a parallel build beside it. PROBE_TIMEOUT (default 90) bounds one case, in seconds.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/build/medforget}
case "$BIN" in /*) ;; *) BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN") ;; esac
if [ ! -x "$BIN" ] || ! "$BIN" --help >/dev/null 2>&1; then
  echo "probe: $BIN does not run (build first, or give BIN)" >&2
  exit 2
fi

case "${PROBE_OUT:-}" in "" | /*) ;; *) PROBE_OUT=$PWD/$PROBE_OUT ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/medforget-probe.XXXXXX")
W=$T/w           # the user's working directory
LOGS=$T/logs     # one output file per case
PRISTINE=$T/pristine   # copies of the shared fixtures
mkdir -p "$W" "$LOGS" "$PRISTINE" "$T/bin"
# Probe a copy: a rebuild of BIN during the probe must not change the binary under test.
cp "$BIN" "$T/bin/medforget" || exit 2
BGPIDS=()
cleanup() {
  local p
  for p in "${BGPIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  if [ "${PROBE_KEEP:-0}" = 1 ]; then echo "probe: kept $T" >&2; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export MEDFORGET_THREADS=1 MEDFORGET_QUIET=1 MEDFORGET_CACHE=$T/cache
TMO=${PROBE_TIMEOUT:-90}   # seconds a single case may take
START=$(date +%s)
cd "$W" || exit 2

# ---------------------------------------------------------------------------
# Bookkeeping
NAMES=(); CLASSES=(); MSGS=(); LOGFILES=()
record() {  # NAME CLASS MESSAGE [LOGFILE]
  NAMES+=("$1"); CLASSES+=("$2"); MSGS+=("${3//$'\n'/ }"); LOGFILES+=("${4:-}")
}

# A content hash of a path: a file's bytes; a directory's entries (type, name,
# link target) and file bytes; a symlink's target; MISSING when absent.
# listing PATH: one line per entry ("<sha256>  ./name" for a file, "<type> ./name -> target"
# for a directory or link); h PATH: the hash of that listing.
listing() {
  local p=$1
  if [ -L "$p" ]; then echo "link . -> $(readlink "$p")"
  elif [ -d "$p" ]; then
    (cd "$p" && { find . -not -type f -printf '%y %p -> %l\n'; find . -type f -print0 | xargs -0 -r sha256sum; } | LC_ALL=C sort -k2)
  elif [ -e "$p" ]; then echo "$(sha256sum <"$p" | cut -c1-64)  ."
  else echo "missing ."; fi
}
h() { listing "$1" | sha256sum | cut -c1-64; }
# What changed between two listings of a path, in a few words.
what_changed() {  # BEFORE-FILE AFTER-FILE
  local new gone
  new=$(comm -13 <(awk '{ print $2 }' "$1" | LC_ALL=C sort) <(awk '{ print $2 }' "$2" | LC_ALL=C sort) | head -3 | tr '\n' ' ')
  gone=$(comm -23 <(awk '{ print $2 }' "$1" | LC_ALL=C sort) <(awk '{ print $2 }' "$2" | LC_ALL=C sort) | head -3 | tr '\n' ' ')
  local edited
  edited=$(comm -13 <(LC_ALL=C sort "$1") <(LC_ALL=C sort "$2") | awk '{ print $2 }' | LC_ALL=C sort |
    comm -12 - <(awk '{ print $2 }' "$1" | LC_ALL=C sort) | head -3 | tr '\n' ' ')
  printf '%s%s%s' "${new:+new: $new}" "${gone:+gone: $gone}" "${edited:+rewritten: $edited}"
}

# Paths every case protects (made during setup); a case adds its own with PROT.
GLOBAL_PROT=()

crash_in() { grep -qE 'terminate called|Segmentation|Aborted|core dumped' "$1"; }

# The line a user reads: the first "error" line, else the first non-empty one.
first_line() {
  local l
  l=$(grep -m1 -iE '^(error|medforget: error|\[medforget\] error)|error:' "$1")
  [ -n "$l" ] || l=$(grep -m1 -v '^[[:space:]]*$' "$1")
  printf '%s' "${l:0:200}"
}

# Runs the command of one case under a time limit, with its protected paths
# hashed before and after. Sets RC, OUTF, LOSS (a description, or "").
run_cmd() {  # NAME CMD...
  local name=$1; shift
  local -a prot=("${GLOBAL_PROT[@]}")
  local p i
  if [ -n "${PROT:-}" ]; then read -r -a extra <<<"$PROT"; prot+=("${extra[@]}"); fi
  local -a before=()
  for i in "${!prot[@]}"; do listing "${prot[$i]}" >"$T/before.$i"; before+=("$(sha256sum <"$T/before.$i" | cut -c1-64)"); done
  OUTF=$LOGS/$(printf '%03d' "${#NAMES[@]}")-${name//\//_}.log
  local -a argv=()
  for p in "$@"; do argv+=("${p//@OUT@/OUT_${#NAMES[@]}}"); done  # a fresh --out per case
  local t0=$EPOCHREALTIME
  # In a subshell, so that bash's own "Segmentation fault" line goes nowhere (the class says it).
  (timeout -k 5 "$TMO" "${argv[@]}" >"$OUTF" 2>&1 </dev/null; echo $? >"$OUTF.rc") 2>/dev/null
  RC=$(cat "$OUTF.rc" 2>/dev/null || echo 255)
  awk -v n="$name" -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f %s\n", b - a, n }' >>"$T/durations"
  LOSS=""
  for i in "${!prot[@]}"; do
    p=${prot[$i]}
    listing "$p" >"$T/after.$i"
    if [ "$(sha256sum <"$T/after.$i" | cut -c1-64)" != "${before[$i]}" ]; then
      if [ -e "$p" ] || [ -L "$p" ]; then LOSS+="$p changed ($(what_changed "$T/before.$i" "$T/after.$i")); "
      else LOSS+="$p vanished; "; fi
      # Put a shared fixture back, so that one loss does not spoil the cases after it.
      if [ -e "$PRISTINE/$p" ]; then rm -rf "$p" && cp -a "$PRISTINE/$p" "$p"; fi
    fi
  done
}

# classify NAME EXPECT(err|ok) PATTERN-or-CHECK
classify() {
  local name=$1 expect=$2 test=$3 line
  line=$(first_line "$OUTF")
  if [ -n "$LOSS" ]; then record "$name" data-loss "${LOSS}exit $RC: $line" "$OUTF"; return; fi
  if [ "$RC" -ne 124 ] && { [ "$RC" -ge 128 ] || crash_in "$OUTF"; }; then
    record "$name" crash "exit $RC: ${line:-<no output>}" "$OUTF"; return
  fi
  if [ "$expect" = err ]; then
    if [ "$RC" -eq 124 ]; then record "$name" silent "no error within ${TMO}s (it went on working)" "$OUTF"
    elif [ "$RC" -eq 0 ]; then record "$name" silent "exit 0: ${line:-<no output>}" "$OUTF"
    elif printf '%s' "$line" | grep -qE -- "$test"; then record "$name" clear "$line"
    else record "$name" unclear "exit $RC, expected /$test/: ${line:-<no output>}" "$OUTF"; fi
  else
    if [ "$RC" -eq 124 ]; then record "$name" failed "no result within ${TMO}s" "$OUTF"
    elif [ "$RC" -ne 0 ]; then record "$name" failed "exit $RC: ${line:-<no output>}" "$OUTF"
    elif [ -n "$test" ] && ! (eval "$test") >/dev/null 2>&1; then
      record "$name" silent "exit 0 but check failed: $test" "$OUTF"
    else record "$name" ok "${line:-exit 0}"; fi
  fi
}

# err NAME PATTERN CMD...   the command must fail, its error line matching PATTERN
err() { local name=$1 pat=$2; shift 2; run_cmd "$name" "$@"; classify "$name" err "$pat"; }
# either NAME PATTERN CMD...  an error whose line matches PATTERN, or a success
#                            whose output matches it (a warning); not a silent success
either() {
  local name=$1 pat=$2; shift 2; run_cmd "$name" "$@"
  if [ "$RC" -eq 0 ] && [ -z "$LOSS" ] && ! crash_in "$OUTF"; then
    if grep -qE -- "$pat" "$OUTF"; then record "$name" ok "$(grep -m1 -E -- "$pat" "$OUTF" | cut -c1-200)"
    else record "$name" silent "exit 0 and no word of /$pat/: $(first_line "$OUTF")" "$OUTF"; fi
  else classify "$name" err "$pat"; fi
}
# ok NAME CHECK CMD...      the command must succeed and the shell test CHECK hold
ok() { local name=$1 chk=$2; shift 2; run_cmd "$name" "$@"; classify "$name" ok "$chk"; }

M_=$T/bin/medforget   # the copy of BIN every case runs

wait_for() {  # PATH SECONDS PID: until PATH exists, the time runs out or PID exits
  local i n=$(( $2 * 20 ))
  for ((i = 0; i < n; i++)); do
    [ -e "$1" ] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# ---------------------------------------------------------------------------
# Setup: the user's files, one tiny benchmark, one tiny model, one corpus.
mkdir -p USERDIR && echo "my notes" >USERDIR/notes.txt && echo "patient list" >USERDIR/list.csv
echo "do not touch" >keep.txt
mkdir -p EMPTY
echo "results of last week" >notes.txt

ok setup/data-build 'test -f BENCH/manifest.json' "$M_" data build --preset tiny --seed 1 --out BENCH
if [ ! -f BENCH/manifest.json ]; then
  echo "probe: cannot build the tiny benchmark; see below" >&2; cat "$OUTF" >&2; exit 2
fi
# The fine-tuning command as the README gives it. If the build at hand fails it,
# that is recorded, and the probe goes on with the preset's values given explicitly.
FIX=()
ok setup/finetune 'test -f MODEL/model.safetensors' "$M_" finetune --bench BENCH --preset tiny --out MODEL --epochs 2
if [ ! -f MODEL/model.safetensors ]; then
  FIX=(--batch-size 8 --lr 3e-3)
  ok setup/finetune-explicit 'test -f MODEL/model.safetensors' \
    "$M_" finetune --bench BENCH --preset tiny --out MODEL --epochs 2 "${FIX[@]}"
  if [ ! -f MODEL/model.safetensors ]; then
    echo "probe: cannot fine-tune the tiny model; see below" >&2; cat "$OUTF" >&2; exit 2
  fi
fi
FIXB=("${FIX[@]:0:2}")   # the batch size alone, for cases that vary --lr
ok setup/data-synth 'test -f CORPUS/corpus.json' "$M_" data synth --preset tiny --seed 1 --out CORPUS
ok setup/eval 'test -f EVALD/summary.json' "$M_" eval --model MODEL --bench BENCH --level patient --limit 4 --out EVALD
ok setup/unlearn 'test -f UNL/model.safetensors' \
  "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --out UNL
ok setup/attack 'test -f ATK/attack.json' "$M_" attack --model MODEL --bench BENCH --level patient --limit 4 --out ATK
GLOBAL_PROT=(BENCH MODEL CORPUS UNL USERDIR keep.txt EMPTY)
cp -a "${GLOBAL_PROT[@]}" "$PRISTINE/"

# ---------------------------------------------------------------------------
# 1. --out on the command's own input
err out-input/eval-out-bench 'BENCH' "$M_" eval --model MODEL --bench BENCH --level patient --out BENCH
err out-input/eval-out-model 'MODEL' "$M_" eval --model MODEL --bench BENCH --level patient --out MODEL
err out-input/eval-out-inside-bench 'BENCH' "$M_" eval --model MODEL --bench BENCH --level patient --out BENCH/eval
err out-input/eval-out-inside-model 'MODEL' "$M_" eval --model MODEL --bench BENCH --level patient --out MODEL/eval
mkdir -p HOLD && cp -a BENCH HOLD/B2
PROT=HOLD err out-input/eval-out-holds-bench 'HOLD' "$M_" eval --model MODEL --bench HOLD/B2 --level patient --out HOLD
err out-input/finetune-out-bench 'BENCH' "$M_" finetune --bench BENCH --preset tiny --out BENCH --epochs 1
err out-input/finetune-out-inside-bench 'BENCH' "$M_" finetune --bench BENCH --preset tiny --out BENCH/levels/model --epochs 1
err out-input/finetune-out-holds-tokenizer 'MODEL|tokenizer' \
  "$M_" finetune --bench BENCH --preset tiny --tokenizer MODEL/tokenizer.json --out MODEL --epochs 1
err out-input/unlearn-out-model 'MODEL' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --out MODEL
err out-input/unlearn-out-bench 'BENCH' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --out BENCH
cp -a MODEL MODEL_D
PROT=MODEL_D err out-input/unlearn-dump-inside-model 'MODEL_D|dump' \
  "$M_" unlearn --model MODEL_D --bench BENCH --level patient --method chip --dump MODEL_D/audit.json --out @OUT@
err out-input/unlearn-dump-inside-bench 'BENCH|dump' \
  "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --dump BENCH/audit.json --out @OUT@
PROT=notes.txt err out-input/unlearn-dump-on-user-file 'notes\.txt|dump' \
  "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --dump notes.txt --out @OUT@
err out-input/data-build-corpus-is-out 'CORPUS' "$M_" data build --corpus CORPUS --preset tiny --out CORPUS
err out-input/data-build-out-inside-corpus 'CORPUS' "$M_" data build --corpus CORPUS --preset tiny --out CORPUS/bench
err out-input/attack-out-inside-bench 'BENCH' "$M_" attack --model MODEL --bench BENCH --level patient --out BENCH/attack
err out-input/attack-out-model 'MODEL' "$M_" attack --model MODEL --bench BENCH --level patient --out MODEL
err out-input/mia-out-inside-bench 'BENCH' "$M_" mia --model MODEL --bench BENCH --level patient --out BENCH/mia
err out-input/mia-out-retrained 'UNL' "$M_" mia --model MODEL --bench BENCH --level patient --retrained UNL --out UNL
PROT=EVALD err out-input/report-out-input 'EVALD' "$M_" report --out EVALD EVALD
err out-input/tokenizer-out-inside-bench 'BENCH' "$M_" tokenizer train --bench BENCH --out BENCH/tok.model
err out-input/run-out-bench 'BENCH' "$M_" run --preset tiny --out BENCH

# ---------------------------------------------------------------------------
# 2. --out on the user's files, regular files, symlinks, the root
err out-user/eval-dir-with-files 'USERDIR' "$M_" eval --model MODEL --bench BENCH --level patient --out USERDIR
err out-user/finetune-dir-with-files 'USERDIR' "$M_" finetune --bench BENCH --preset tiny --out USERDIR --epochs 1
err out-user/unlearn-dir-with-files 'USERDIR' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --out USERDIR
err out-user/data-build-dir-with-files 'USERDIR' "$M_" data build --preset tiny --out USERDIR
err out-user/data-synth-dir-with-files 'USERDIR' "$M_" data synth --preset tiny --out USERDIR
err out-user/report-dir-with-files 'USERDIR' "$M_" report --out USERDIR EVALD
err out-user/run-dir-with-files 'USERDIR' "$M_" run --preset tiny --out USERDIR
mkdir -p PWDDIR && echo "thesis draft" >PWDDIR/thesis.tex
PROT=PWDDIR err out-user/data-build-out-PWD 'PWDDIR' bash -c 'cd PWDDIR && exec "$0" data build --preset tiny --out "$PWD"' "$M_"
PROT=PWDDIR err out-user/eval-out-dot '--out \.[: ]|PWDDIR' \
  bash -c 'cd PWDDIR && exec "$0" eval --model ../MODEL --bench ../BENCH --level patient --out .' "$M_"
PROT=PWDDIR err out-user/finetune-out-PWD-slash 'PWDDIR' \
  bash -c 'cd PWDDIR && exec "$0" finetune --bench ../BENCH --preset tiny --epochs 1 --out "$PWD/"' "$M_"
PROT=notes.txt err out-file/eval 'notes\.txt' "$M_" eval --model MODEL --bench BENCH --level patient --out notes.txt
PROT=notes.txt err out-file/finetune 'notes\.txt' "$M_" finetune --bench BENCH --preset tiny --out notes.txt --epochs 1
PROT=notes.txt err out-file/unlearn 'notes\.txt' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --out notes.txt
PROT=notes.txt err out-file/data-build 'notes\.txt' "$M_" data build --preset tiny --out notes.txt
PROT=notes.txt err out-file/tokenizer-no-force 'notes\.txt' "$M_" tokenizer train --bench BENCH --out notes.txt
ln -s USERDIR link_usr
ln -s EMPTY link_empty
ln -s MODEL link_model
ln -s nowhere link_dangling
PROT=link_usr err out-link/eval-to-user-dir 'link_usr' "$M_" eval --model MODEL --bench BENCH --level patient --out link_usr
PROT=link_empty err out-link/finetune-to-empty-dir 'link_empty' "$M_" finetune --bench BENCH --preset tiny --out link_empty --epochs 1
PROT=link_dangling err out-link/data-build-dangling 'link_dangling' "$M_" data build --preset tiny --out link_dangling
PROT=link_model err out-link/unlearn-to-checkpoint 'link_model' \
  "$M_" unlearn --model UNL --bench BENCH --level patient --method chip --out link_model
err out-root/eval 'root' "$M_" eval --model nothing_here --bench nothing_here --level patient --out /
err out-empty-string '--out|empty' "$M_" eval --model MODEL --bench BENCH --level patient --out ''
err out-kind/eval-over-checkpoint 'UNL|checkpoint' "$M_" eval --model MODEL --bench BENCH --level patient --out UNL
err out-kind/unlearn-over-eval 'EVALD|eval' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --out EVALD

# Success is right here: a re-run into the same kind of directory, an empty
# directory the user made, a new directory inside the user's, --force over another kind.
ok rerun/eval-same-out 'test -f EVALD/summary.json' "$M_" eval --model MODEL --bench BENCH --level patient --limit 4 --out EVALD
PROT=ATK ok rerun/attack-new-out 'test -f A2/attack.json' "$M_" attack --model MODEL --bench BENCH --level patient --limit 4 --out A2
ok rerun/attack-same-out-again 'test -f A2/attack.json' "$M_" attack --model MODEL --bench BENCH --level patient --limit 4 --out A2
GLOBAL_PROT=(BENCH MODEL CORPUS USERDIR keep.txt EMPTY)   # UNL is replaced by the next case
ok rerun/unlearn-same-out 'test -f UNL/model.safetensors && test -f UNL/provenance.json' \
  "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --out UNL
GLOBAL_PROT=(BENCH MODEL CORPUS UNL USERDIR keep.txt EMPTY)
ok rerun/data-build-same-out 'test -f B3/manifest.json' bash -c '"$0" data build --preset tiny --seed 1 --out B3 && "$0" data build --preset tiny --seed 1 --out B3' "$M_"
ok rerun/finetune-same-out 'test -f M3/model.safetensors' bash -c '"$0" finetune --bench BENCH --preset tiny --out M3 --epochs 1 "${@}" && "$0" finetune --bench BENCH --preset tiny --out M3 --epochs 1 "${@}"' "$M_" "${FIX[@]}"
mkdir -p EMPTY2
ok out-empty-dir/eval 'test -f EMPTY2/summary.json' "$M_" eval --model MODEL --bench BENCH --level patient --limit 4 --out EMPTY2
# (USERDIR gains ev/ here, so its own files are protected one by one)
GLOBAL_PROT=(BENCH MODEL CORPUS UNL keep.txt EMPTY)
PROT="USERDIR/notes.txt USERDIR/list.csv" ok out-new-subdir-of-user-dir 'test -f USERDIR/ev/summary.json' \
  "$M_" eval --model MODEL --bench BENCH --level patient --limit 4 --out USERDIR/ev
rm -rf USERDIR/ev
GLOBAL_PROT=(BENCH MODEL CORPUS UNL USERDIR keep.txt EMPTY)
cp -a ATK A3
ok out-kind/eval-force-over-attack 'test -f A3/summary.json' "$M_" eval --model MODEL --bench BENCH --level patient --limit 4 --out A3 --force
PROT=USERDIR err out-kind/force-does-not-lift-user-dir 'USERDIR' "$M_" eval --model MODEL --bench BENCH --level patient --out USERDIR --force
err out-kind/force-does-not-lift-input 'BENCH' "$M_" eval --model MODEL --bench BENCH --level patient --out BENCH --force

# ---------------------------------------------------------------------------
# 3. One process per output: a second process, a stale lock, a changed resume
"$M_" finetune --bench BENCH --preset tiny --out LOCKED --epochs 400 "${FIX[@]}" >"$LOGS/bg-locked.log" 2>&1 &
BG=$!; BGPIDS+=("$BG")
if wait_for .LOCKED.lock 30 "$BG"; then
  err lock/second-finetune-same-out 'in use by another medforget process' \
    "$M_" finetune --bench BENCH --preset tiny --out LOCKED --epochs 400 "${FIX[@]}"
  err lock/second-eval-on-finetune-out 'in use by another medforget process|LOCKED' \
    "$M_" eval --model MODEL --bench BENCH --level patient --out LOCKED
else
  cp "$LOGS/bg-locked.log" "$LOGS/lock-start.log"
  record lock/second-finetune-same-out failed "the first finetune never took its lock: $(first_line "$LOGS/bg-locked.log")" "$LOGS/lock-start.log"
fi
kill -9 "$BG" 2>/dev/null; wait "$BG" 2>/dev/null

# A stale lock: the process that held it was killed with -9.
"$M_" finetune --bench BENCH --preset tiny --out STALE --epochs 6 --checkpoint-every 3 "${FIX[@]}" >"$LOGS/bg-stale.log" 2>&1 &
BG=$!; BGPIDS+=("$BG")
if wait_for STALE.partial/state 60 "$BG"; then
  sleep 0.3
  kill -9 "$BG" 2>/dev/null; wait "$BG" 2>/dev/null
  if [ -e STALE/manifest.json ]; then
    record lock/stale-after-kill-9 failed "could not kill the finetune before it finished (probe timing)"
  else
    ok lock/stale-after-kill-9 'test -f STALE/model.safetensors && ! test -e STALE.partial && ! test -e .STALE.lock && grep -q "resumed from step" "$OUTF"' \
      "$M_" finetune --bench BENCH --preset tiny --out STALE --epochs 6 --checkpoint-every 3 "${FIX[@]}"
  fi
else
  kill -9 "$BG" 2>/dev/null; wait "$BG" 2>/dev/null
  cp "$LOGS/bg-stale.log" "$LOGS/stale-start.log"
  record lock/stale-after-kill-9 failed "no snapshot appeared: $(first_line "$LOGS/bg-stale.log")" "$LOGS/stale-start.log"
fi

# A killed fine-tuning (--stop-after) resumed with other options must be refused,
# and its snapshot kept; with the same options it resumes.
run_cmd resume/stop-after-3 "$M_" finetune --bench BENCH --preset tiny --out RES --epochs 2 --stop-after 3 --checkpoint-every 1 "${FIX[@]}"
if [ -d RES.partial ]; then
  PROT=RES.partial err resume/different-lr 'RES|\blr\b' \
    "$M_" finetune --bench BENCH --preset tiny --out RES --epochs 2 --lr 1e-3 "${FIXB[@]}"
  PROT=RES.partial err resume/different-epochs 'RES|epochs' \
    "$M_" finetune --bench BENCH --preset tiny --out RES --epochs 3 "${FIX[@]}"
  PROT=RES.partial err resume/different-seed 'RES|seed' \
    "$M_" finetune --bench BENCH --preset tiny --out RES --epochs 2 --seed 7 "${FIX[@]}"
  ok resume/same-options 'test -f RES/model.safetensors && ! test -e RES.partial' \
    "$M_" finetune --bench BENCH --preset tiny --out RES --epochs 2 "${FIX[@]}"
else
  record resume/stop-after-3 failed "no RES.partial after --stop-after 3 (exit $RC): $(first_line "$OUTF")" "$OUTF"
fi

# A data build killed half-way leaves no half-written benchmark; the re-run works.
"$M_" data build --preset small --seed 1 --out KILLED >"$LOGS/bg-killed.log" 2>&1 &
BG=$!; BGPIDS+=("$BG")
sleep 1.2
kill -9 "$BG" 2>/dev/null; wait "$BG" 2>/dev/null
if [ -e KILLED ] && [ ! -f KILLED/manifest.json ]; then
  record kill/data-build-half-written data-loss "KILLED exists without a manifest after kill -9"
else
  record kill/data-build-half-written ok "after kill -9: $( [ -e KILLED ] && echo 'KILLED complete' || echo 'no KILLED')"
fi
ok kill/data-build-rerun 'test -f KILLED/manifest.json && ! ls -d KILLED.tmp-* 2>/dev/null | grep -q .' \
  "$M_" data build --preset small --seed 1 --out KILLED

# ---------------------------------------------------------------------------
# 4. Numeric options out of range
err range/finetune-epochs-0 'epochs' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --epochs 0
err range/finetune-epochs-neg 'epochs' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --epochs -1
err range/finetune-batch-size-0 'batch.size' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --batch-size 0
err range/finetune-lr-0 '\blr\b' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --lr 0
err range/finetune-lr-neg '\blr\b' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --lr -1
err range/finetune-lr-nan '\blr\b' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --lr nan
err range/finetune-lr-inf '\blr\b' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --lr inf
err range/finetune-grad-clip-neg 'grad.clip' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --grad-clip -1
err range/finetune-warmup-neg 'warmup' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --warmup -2
err range/finetune-warmup-over-1 'warmup' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --warmup 1.5
err range/finetune-checkpoint-every-neg 'checkpoint.every' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --checkpoint-every -1
err range/finetune-weight-decay-neg 'weight.decay' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --weight-decay -1
err range/finetune-vocab-size-0 'vocab.size' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --vocab-size 0
err range/finetune-epochs-not-a-number 'epochs|abc' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --epochs abc
err range/unlearn-grad-clip-neg 'grad_clip' "$M_" unlearn --model MODEL --bench BENCH --level patient --method graddiff --opt grad_clip=-1 --out @OUT@
err range/unlearn-k-0 '\bk\b' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --opt k=0 --out @OUT@
err range/unlearn-k-2 '\bk\b' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --opt k=2 --out @OUT@
err range/unlearn-lr-nan '\blr\b' "$M_" unlearn --model MODEL --bench BENCH --level patient --method graddiff --opt lr=nan --out @OUT@
err range/unlearn-k-not-a-number '\bk\b|abc' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --opt k=abc --out @OUT@
err range/unlearn-unknown-option 'bogus' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --opt bogus=1 --out @OUT@
err range/unlearn-option-without-value '\bk\b|=' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --opt k --out @OUT@
err range/eval-max-new-tokens-0 'max.new.tokens' "$M_" eval --model MODEL --bench BENCH --level patient --out @OUT@ --max-new-tokens 0
if [ "${CLASSES[-1]}" = clear ] && grep -qi 'prompt' "$OUTF"; then  # the budget, not the prompt length, is wrong
  CLASSES[-1]=unclear; MSGS[-1]="speaks of the prompt: ${MSGS[-1]}"; LOGFILES[-1]=$OUTF
fi
err range/eval-max-new-tokens-neg 'max.new.tokens' "$M_" eval --model MODEL --bench BENCH --level patient --out @OUT@ --max-new-tokens -5
err range/eval-batch-size-0 'batch.size' "$M_" eval --model MODEL --bench BENCH --level patient --out @OUT@ --batch-size 0
err range/attack-max-new-tokens-0 'max.new.tokens' "$M_" attack --model MODEL --bench BENCH --level patient --out @OUT@ --max-new-tokens 0
err range/attack-batch-size-0 'batch.size' "$M_" attack --model MODEL --bench BENCH --level patient --out @OUT@ --batch-size 0
err range/mia-k-0 '\bk\b' "$M_" mia --model MODEL --bench BENCH --level patient --out @OUT@ --k 0
err range/mia-k-over-1 '\bk\b' "$M_" mia --model MODEL --bench BENCH --level patient --out @OUT@ --k 1.5
err range/mia-k-nan '\bk\b' "$M_" mia --model MODEL --bench BENCH --level patient --out @OUT@ --k nan
err range/mia-batch-size-0 'batch.size' "$M_" mia --model MODEL --bench BENCH --level patient --out @OUT@ --batch-size 0
err range/data-build-image-size-16 'image.size|16' "$M_" data build --preset tiny --out @OUT@ --image-size 16
err range/data-synth-image-size-neg 'image.size' "$M_" data synth --preset tiny --out @OUT@ --image-size -8
err range/tokenizer-vocab-size-0 'vocab.size' "$M_" tokenizer train --bench BENCH --out @OUT@.model --vocab-size 0
err range/run-jobs-0 'jobs' "$M_" run --preset tiny --out @OUT@ --jobs 0
err range/eval-limit-neg 'limit|-1' "$M_" eval --model MODEL --bench BENCH --level patient --out @OUT@ --limit -1
err range/finetune-seed-neg 'seed|-1' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --epochs 1 --seed -1 "${FIX[@]}"
err range/finetune-stop-after-neg 'stop.after' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --stop-after -1
either env/threads-not-a-number 'MEDFORGET_THREADS' env MEDFORGET_THREADS=abc "$M_" eval --model MODEL --bench BENCH --level patient --limit 2 --out @OUT@
either env/threads-zero 'MEDFORGET_THREADS' env MEDFORGET_THREADS=0 "$M_" eval --model MODEL --bench BENCH --level patient --limit 2 --out @OUT@

# ---------------------------------------------------------------------------
# 5. Deletion targets
err targets/empty 'targets' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --targets '' --out @OUT@
err targets/comma 'targets|,' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --targets , --out @OUT@
err targets/unknown 'patient_9999' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --targets patient_9999 --out @OUT@
err targets/dotdot '\.\./' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --targets ../../keep.txt --out @OUT@
err targets/absolute '/etc/passwd|targets' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --targets /etc/passwd --out @OUT@
INST=$(jq -r '[.nodes[] | select(.level == "institution")][0].id' BENCH/hierarchy.json 2>/dev/null)
[ -n "$INST" ] || INST=inst_00
err targets/wrong-level "$INST|level" "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --targets "$INST" --out @OUT@

# ---------------------------------------------------------------------------
# 6. A benchmark edited after it was built
cp -a BENCH BE && sed -i '1,2d' BE/levels/patient/forget.jsonl
PROT=BE err edited/data-check 'digest' "$M_" data check BE
PROT=BE err edited/eval 'digest' "$M_" eval --model MODEL --bench BE --level patient --out @OUT@
PROT=BE err edited/unlearn 'digest' "$M_" unlearn --model MODEL --bench BE --level patient --method chip --out @OUT@
PROT=BE err edited/finetune 'digest' "$M_" finetune --bench BE --preset tiny --out @OUT@ --epochs 1
PROT=BE err edited/attack 'digest' "$M_" attack --model MODEL --bench BE --level patient --out @OUT@
PROT=BE err edited/mia 'digest' "$M_" mia --model MODEL --bench BE --level patient --out @OUT@
cp -a BENCH BF && sed -i '3,5d' BF/finetune.jsonl
PROT=BF err edited/finetune-set-tokenizer 'digest' "$M_" tokenizer train --bench BF --out @OUT@.model
PROT=BF err edited/finetune-set-finetune 'digest' "$M_" finetune --bench BF --preset tiny --out @OUT@ --epochs 1
# The same edit after a verified use, the file's size and mtime kept (as cp -p,
# rsync -t or tar restore them): the digest cache must not vouch for new bytes.
cp -a BENCH BS
ok edited/cache-warm-up 'test -f X10/summary.json' "$M_" eval --model MODEL --bench BS --level patient --limit 4 --out X10
python3 - BS/levels/patient/forget.jsonl <<'EOF'
import os, sys
p = sys.argv[1]; st = os.stat(p)
b = bytearray(open(p, 'rb').read())
i = b.index(b'"answer":"') + len('"answer":"')
b[i] = ord('X') if b[i] != ord('X') else ord('Y')
open(p, 'wb').write(bytes(b))
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
EOF
PROT=BS err edited/same-size-same-mtime 'digest' "$M_" eval --model MODEL --bench BS --level patient --out @OUT@
# A damaged checkpoint.
cp -a MODEL MT && truncate -s 1000 MT/model.safetensors
PROT=MT err damaged/model-truncated 'MT|safetensors' "$M_" eval --model MT --bench BENCH --level patient --out @OUT@
cp -a MODEL MF && python3 - MF/model.safetensors <<'EOF'
import sys
p = sys.argv[1]; b = bytearray(open(p, 'rb').read())
for i in range(len(b) - 4096, len(b) - 4000): b[i] ^= 0xFF
open(p, 'wb').write(bytes(b))
EOF
PROT=MF err damaged/model-bytes-flipped 'MF|digest|safetensors' "$M_" eval --model MF --bench BENCH --level patient --out @OUT@
cp -a MODEL MN && rm MN/model.safetensors
PROT=MN err damaged/model-file-missing 'MN|safetensors' "$M_" eval --model MN --bench BENCH --level patient --out @OUT@
cp -a BENCH BM && rm "$(ls BM/images/*.png | head -1)"
PROT=BM err damaged/bench-image-missing 'png|image|digest' "$M_" data check BM

# ---------------------------------------------------------------------------
# 7. A corpus whose ids or image paths leave the output
# Every path under the probe's directory but its own records.
tree() { find "$T" -mindepth 1 -not -path "$LOGS/*" -not -path "$T/cache/*" -not -path "$T/tree.*" -not -path "$T/durations" -not -path "$T/before.*" -not -path "$T/after.*" | LC_ALL=C sort; }
corpus_case() {  # NAME PYTHON-EDIT PATTERN
  local name=$1 edit=$2 pat=$3 d
  d=CX_${name##*/}
  rm -rf "$d" && cp -a CORPUS "$d" && rm -f "$d/manifest.json"
  python3 - "$d/corpus.json" "$edit" <<'EOF'
import json, sys
p, edit = sys.argv[1], sys.argv[2]
c = json.load(open(p))
inst = c['institutions'][0]; pat = inst['patients'][0]; st = pat['studies'][0]
exec(edit)
json.dump(c, open(p, 'w'), indent=1)
EOF
  tree >"$T/tree.before"
  PROT=$d err "$name" "$pat" "$M_" data build --corpus "$d" --preset tiny --out "OX_${name##*/}"
  tree >"$T/tree.after"
  local new
  new=$(comm -13 "$T/tree.before" "$T/tree.after" | grep -v "/w/OX_${name##*/}\(/\|\.tmp-\|$\)" | grep -v '\.lock$' | head -3)
  [ -n "$new" ] || new=$(find "$(dirname "$T")" -maxdepth 3 -name 'probe_escape*' -newer "$T/tree.before" 2>/dev/null | head -3)
  if [ -n "$new" ]; then
    local last=$(( ${#NAMES[@]} - 1 ))
    CLASSES[$last]=data-loss
    MSGS[$last]="wrote outside --out: ${new//$'\n'/, }; ${MSGS[$last]}"
    LOGFILES[$last]=$OUTF
  fi
}
corpus_case corpus/study-id-dotdot "st['id'] = '../../../probe_escape_study'" 'probe_escape_study|\.\./'
corpus_case corpus/patient-id-dotdot "pat['id'] = '../probe_escape_patient'" 'probe_escape_patient|\.\./'
corpus_case corpus/institution-id-slash "inst['id'] = 'inst/../../probe_escape_inst'" 'probe_escape_inst|/'
corpus_case corpus/study-id-dot-dot-only "st['id'] = '..'" "'\.\.'|\.\.|id"
corpus_case corpus/image-dotdot "import shutil; shutil.copy('CORPUS/' + st['image'], 'probe_outside.png'); st['image'] = '../probe_outside.png'" '\.\./probe_outside|image'
corpus_case corpus/image-absolute "st['image'] = '/etc/hostname'" '/etc/hostname|image'
rm -rf CX_malformed-json && cp -a CORPUS CX_malformed-json && rm CX_malformed-json/manifest.json
printf '{"institutions": [' >CX_malformed-json/corpus.json
PROT=CX_malformed-json err corpus/malformed-json 'corpus\.json' "$M_" data build --corpus CX_malformed-json --preset tiny --out OX_malformed2

# ---------------------------------------------------------------------------
# 8. Unknown names, missing files, wrong kinds of directory
err unknown/data-build-preset 'huge' "$M_" data build --preset huge --out @OUT@
err unknown/finetune-preset 'huge' "$M_" finetune --bench BENCH --preset huge --out @OUT@
err unknown/run-preset 'huge' "$M_" run --preset huge --out @OUT@
err unknown/eval-level 'planet' "$M_" eval --model MODEL --bench BENCH --level planet --out @OUT@
err unknown/unlearn-level 'planet' "$M_" unlearn --model MODEL --bench BENCH --level planet --method chip --out @OUT@
err unknown/attack-level 'planet' "$M_" attack --model MODEL --bench BENCH --level planet --out @OUT@
err unknown/mia-level 'planet' "$M_" mia --model MODEL --bench BENCH --level planet --out @OUT@
err unknown/unlearn-method 'magic' "$M_" unlearn --model MODEL --bench BENCH --level patient --method magic --out @OUT@
err unknown/eval-set 'bogus' "$M_" eval --model MODEL --bench BENCH --level patient --sets forget,bogus --out @OUT@
err unknown/device 'tpu' "$M_" eval --model MODEL --bench BENCH --level patient --device tpu --out @OUT@
err unknown/cli-option 'epochz' "$M_" finetune --bench BENCH --preset tiny --out @OUT@ --epochz 3
err unknown/subcommand 'frobnicate' "$M_" frobnicate
err missing/eval-model 'no_model' "$M_" eval --model no_model --bench BENCH --level patient --out @OUT@
err missing/eval-bench 'no_bench' "$M_" eval --model MODEL --bench no_bench --level patient --out @OUT@
err missing/finetune-bench 'no_bench' "$M_" finetune --bench no_bench --preset tiny --out @OUT@
err missing/finetune-tokenizer 'no\.model' "$M_" finetune --bench BENCH --preset tiny --tokenizer no.model --out @OUT@
err missing/finetune-set 'nope\.jsonl' "$M_" finetune --bench BENCH --preset tiny --set nope.jsonl --out @OUT@
err missing/eval-file 'nope\.jsonl' "$M_" eval --model MODEL --bench BENCH --file nope.jsonl --out @OUT@
err missing/unlearn-model 'no_model' "$M_" unlearn --model no_model --bench BENCH --level patient --method chip --out @OUT@
err missing/data-check 'no_bench' "$M_" data check no_bench
err missing/data-build-corpus 'no_corpus' "$M_" data build --corpus no_corpus --out @OUT@
err missing/report-input 'no_results' "$M_" report --out @OUT@ no_results
err missing/run-config 'no_config\.json' "$M_" run --config no_config.json --out @OUT@
err missing/mia-retrained 'no_model' "$M_" mia --model MODEL --bench BENCH --level patient --retrained no_model --out @OUT@
err missing/mia-retrained-mia 'no_mia' "$M_" mia --model MODEL --bench BENCH --level patient --retrained-mia no_mia --out @OUT@
err missing/tokenizer-encode-model 'no\.model' "$M_" tokenizer encode --model no.model hello
err missing/unlearn-required-out '--out' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip
err missing/data-build-no-preset-no-corpus 'preset|corpus' "$M_" data build --out @OUT@
err kind/eval-model-is-bench 'BENCH|checkpoint|config' "$M_" eval --model BENCH --bench BENCH --level patient --out @OUT@
err kind/eval-bench-is-model 'MODEL|benchmark' "$M_" eval --model MODEL --bench MODEL --level patient --out @OUT@
err kind/unlearn-model-is-eval 'EVALD|checkpoint' "$M_" unlearn --model EVALD --bench BENCH --level patient --method chip --out @OUT@
err kind/mia-retrained-mia-is-eval 'EVALD|mia' "$M_" mia --model MODEL --bench BENCH --level patient --retrained-mia EVALD --out @OUT@
err kind/report-no-results 'BENCH|result' "$M_" report --out @OUT@ BENCH
err paths/eval-file-outside-bench '\.\./|keep\.txt|file' "$M_" eval --model MODEL --bench BENCH --file ../keep.txt --out @OUT@
err paths/finetune-set-outside-bench '\.\./|set' "$M_" finetune --bench BENCH --preset tiny --set ../../keep.txt --out @OUT@
err paths/unlearn-name-dotdot 'name|\.\./' "$M_" unlearn --model MODEL --bench BENCH --level patient --method chip --name ../evil --out @OUT@
ok list/unlearn-list 'grep -q chip "$OUTF" && grep -q graddiff "$OUTF"' "$M_" unlearn --list
ok list/help 'grep -q finetune "$OUTF"' "$M_" --help

err run/only-matches-nothing 'nomatch' "$M_" run --preset tiny --out @OUT@ --only 'nomatch*'
err run/redo-matches-nothing 'nomatch' "$M_" run --preset tiny --out @OUT@ --redo 'nomatch*'
err run/only-with-status 'only|status' "$M_" run --preset tiny --out @OUT@ --only 'eval*' --status
err import/mimic-root-user-dir 'USERDIR' "$M_" data import-mimic --root USERDIR --out @OUT@
err import/mimic-root-missing 'no_root' "$M_" data import-mimic --root no_root --out @OUT@
err import/iu-reports-not-csv 'list\.csv|notes\.txt|USERDIR' "$M_" data import-iu --reports USERDIR/list.csv --projections notes.txt --images USERDIR --out @OUT@
cp -a EVALD EVB && printf '{' >EVB/summary.json
PROT=EVB err report/corrupt-summary 'EVB' "$M_" report --out @OUT@ EVB
PROT=notes.txt err out-under-a-file/eval 'notes\.txt' "$M_" eval --model MODEL --bench BENCH --level patient --out notes.txt/sub
ok mia/reference-run 'test -f MIA1/mia.json' "$M_" mia --model UNL --bench BENCH --level patient --k 0.2 --out MIA1
PROT=MIA1 err mia/retrained-mia-other-k 'MIA1|\bk\b' "$M_" mia --model MODEL --bench BENCH --level patient --k 0.3 --retrained-mia MIA1 --out @OUT@
PROT=MIA1 err mia/retrained-mia-other-level 'MIA1|level' "$M_" mia --model MODEL --bench BENCH --level study --k 0.2 --retrained-mia MIA1 --out @OUT@

# Killed half-way (kill -9): no half-written output; the same command then works.
kill_case() {  # NAME DIR SECONDS CMD...   (CMD writes DIR)
  local name=$1 dir=$2 secs=$3; shift 3
  "$@" >"$LOGS/bg-$dir.log" 2>&1 &
  local bg=$!; BGPIDS+=("$bg")
  sleep "$secs"; kill -9 "$bg" 2>/dev/null; wait "$bg" 2>/dev/null
  if [ -e "$dir" ] && [ ! -f "$dir/manifest.json" ]; then
    record "$name" data-loss "$dir is there without a manifest after kill -9 (half-written): $(ls "$dir" | head -5 | tr '\n' ' ')"
  else
    record "$name" ok "after kill -9 at ${secs}s: $( [ -e "$dir" ] && echo "$dir complete" || echo "no $dir")"
  fi
  ok "$name-rerun" "test -f $dir/manifest.json" "$@"
}
kill_case kill/eval KE 1.5 "$M_" eval --model MODEL --bench BENCH --level patient --out KE
kill_case kill/unlearn-graddiff KU 2 "$M_" unlearn --model MODEL --bench BENCH --level patient --method graddiff --out KU
kill_case kill/data-synth KC 0.8 "$M_" data synth --preset small --seed 1 --out KC

# A fine-tuning stopped with SIGTERM resumes.
"$M_" finetune --bench BENCH --preset tiny --out TERMD --epochs 6 --checkpoint-every 3 "${FIX[@]}" >"$LOGS/bg-term.log" 2>&1 &
BG=$!; BGPIDS+=("$BG")
if wait_for TERMD.partial/state 60 "$BG"; then
  sleep 0.3; kill -TERM "$BG" 2>/dev/null; wait "$BG" 2>/dev/null
  ok kill/finetune-sigterm-resume 'test -f TERMD/model.safetensors && ! test -e TERMD.partial && grep -q "resumed from step" "$OUTF"' \
    "$M_" finetune --bench BENCH --preset tiny --out TERMD --epochs 6 --checkpoint-every 3 "${FIX[@]}"
else
  kill -9 "$BG" 2>/dev/null; wait "$BG" 2>/dev/null
  record kill/finetune-sigterm-resume failed "no snapshot appeared: $(first_line "$LOGS/bg-term.log")" "$LOGS/bg-term.log"
fi

# ---------------------------------------------------------------------------
# 9. Run configurations
cfg() { printf '%s' "$2" >"cfg_$1.json"; }
cfg malformed '{"preset": "tiny", "seed": 1,'
cfg not-object '[1, 2, 3]'
cfg empty-file ''
cfg unknown-field '{"preset": "tiny", "presett": "tiny"}'
cfg unknown-ft-field '{"preset": "tiny", "finetune": {"epoch": 3}}'
cfg ft-epochs-neg '{"preset": "tiny", "finetune": {"epochs": -3}}'
cfg ft-lr-string '{"preset": "tiny", "finetune": {"lr": "fast"}}'
cfg ft-batch-0 '{"preset": "tiny", "finetune": {"batch_size": 0}}'
cfg unknown-method '{"preset": "tiny", "methods": ["magic"]}'
cfg unknown-level '{"preset": "tiny", "levels": ["planet"]}'
cfg unknown-preset '{"preset": "huge"}'
cfg method-option-range '{"preset": "tiny", "methods": [{"method": "chip", "options": {"k": 2}}]}'
cfg method-unknown-option '{"preset": "tiny", "methods": [{"method": "chip", "options": {"bogus": 1}}]}'
cfg method-name-dotdot '{"preset": "tiny", "methods": [{"method": "chip", "name": "../evil"}]}'
cfg method-name-twice '{"preset": "tiny", "methods": ["chip", {"method": "chip", "name": "chip"}]}'
cfg eval-limit-neg '{"preset": "tiny", "eval_limit": -5}'
cfg seed-string '{"preset": "tiny", "seed": "one"}'
cfg attack-string '{"preset": "tiny", "attack": "yes"}'
cfg_case() {  # NAME PATTERN
  PROT="cfg_$1.json" err "config/$1" "$2" "$M_" run --config "cfg_$1.json" --out "RC_$1"
  if [ -e "RC_$1/bench" ] || [ -e "RC_$1/models" ]; then
    local last=$(( ${#NAMES[@]} - 1 ))
    [ "${CLASSES[$last]}" = clear ] && { CLASSES[$last]=silent; MSGS[$last]="started work before failing: ${MSGS[$last]}"; LOGFILES[$last]=$OUTF; }
  fi
}
cfg_case malformed 'cfg_malformed\.json'
cfg_case not-object 'cfg_not-object\.json|object'
cfg_case empty-file 'cfg_empty-file\.json'
cfg_case unknown-field 'presett'
cfg_case unknown-ft-field 'epoch'
cfg_case ft-epochs-neg 'epochs'
cfg_case ft-lr-string '\blr\b'
cfg_case ft-batch-0 'batch_size'
cfg_case unknown-method 'magic'
cfg_case unknown-level 'planet'
cfg_case unknown-preset 'huge'
cfg_case method-option-range '\bk\b'
cfg_case method-unknown-option 'bogus'
cfg_case method-name-dotdot '\.\./evil|name'
cfg_case method-name-twice 'chip|twice'
cfg_case eval-limit-neg 'eval_limit'
cfg_case seed-string 'seed'
cfg_case attack-string 'attack'
PROT=USERDIR err config/is-a-directory 'USERDIR|config' "$M_" run --config USERDIR --out @OUT@

# ---------------------------------------------------------------------------
# Report
ELAPSED=$(( $(date +%s) - START ))
declare -A COUNT=([clear]=0 [ok]=0 [data-loss]=0 [crash]=0 [silent]=0 [unclear]=0 [failed]=0)
{
  printf '%-46s %-9s %s\n' case class message
  for i in "${!NAMES[@]}"; do
    printf '%-46s %-9s %s\n' "${NAMES[$i]}" "${CLASSES[$i]}" "${MSGS[$i]}"
  done
} >"$T/table.txt"
for i in "${!NAMES[@]}"; do COUNT[${CLASSES[$i]}]=$(( ${COUNT[${CLASSES[$i]}]} + 1 )); done
N=${#NAMES[@]}
SUMMARY="probe: $N cases: clear ${COUNT[clear]}, ok ${COUNT[ok]}, data-loss ${COUNT[data-loss]}, crash ${COUNT[crash]}, silent ${COUNT[silent]}"
EXTRA="probe: also unclear ${COUNT[unclear]}, failed ${COUNT[failed]}; ${ELAPSED} s; BIN $BIN
probe: slowest: $(sort -rn "$T/durations" | head -5 | awk '{ printf "%s%s %s s", (NR > 1 ? ", " : ""), $2, $1 }')"
cat "$T/table.txt"
DETAILS=""
for i in "${!NAMES[@]}"; do
  case "${CLASSES[$i]}" in clear | ok) continue ;; esac
  f=${LOGFILES[$i]}
  DETAILS+=$'\n'"--- ${NAMES[$i]} (${CLASSES[$i]})"$'\n'
  if [ -n "$f" ] && [ -f "$f" ]; then DETAILS+=$(tail -n 15 "$f" | cut -c1-300); DETAILS+=$'\n'; fi
done
[ -n "$DETAILS" ] && printf '\nOutput of the cases that are not clear or ok:%s' "$DETAILS"
echo "$SUMMARY"
echo "$EXTRA"
if [ -n "${PROBE_OUT:-}" ]; then
  { cat "$T/table.txt"; [ -n "$DETAILS" ] && printf '\nOutput of the cases that are not clear or ok:%s' "$DETAILS"
    echo "$SUMMARY"; echo "$EXTRA"; } >"$PROBE_OUT"
fi
BAD=$(( ${COUNT[data-loss]} + ${COUNT[crash]} + ${COUNT[silent]} + ${COUNT[unclear]} + ${COUNT[failed]} ))
[ "$BAD" -eq 0 ]
