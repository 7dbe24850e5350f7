#!/usr/bin/env bash
# Builds medforget's libFuzzer harnesses (fuzz/<name>_fuzz.cpp) with clang++-14,
# AddressSanitizer and UndefinedBehaviorSanitizer into build-fuzz/, and runs each
# target in turn.
#
#   scripts/fuzz.sh [--smoke | --seconds N] [--build-only | --run-only] [TARGET...]
#
#   --seconds N   fuzz each target for N seconds (default 600)
#   --smoke       30 seconds per target (what the CTest entries fuzz.smoke.<target> run)
#   --build-only  build the harnesses, run nothing
#   --run-only    run harnesses an earlier --build-only built (several of these may
#                 run at once on one build directory: CTest's fuzz.smoke.<target>)
#   --make-seeds  rewrite the generated seeds in fuzz/corpus/ with medforget's own
#                 writers (fuzz/make_seeds.cpp), run nothing
#   TARGET        safetensors model_config tokenizer csv report_parser items corpus run_config
#                 (default: all of them)
#
# Each target starts from its seeds in fuzz/corpus/<name>/ plus whatever earlier
# runs added to build-fuzz/corpus/<name>/ (libFuzzer writes new inputs there,
# never into fuzz/). Crashes, sanitizer reports, uncaught exceptions other than
# medforget::Error, hangs (> 5 s per input) and out-of-memory (> 2048 MB) are
# findings: the input goes to build-fuzz/crashes/<name>/, the log to
# build-fuzz/logs/<name>.log, and the script exits 1 once every target has run.
# A summary line per target (executions, corpus size, coverage) goes to
# build-fuzz/summary.txt (summary-<target>.txt with --run-only). Reproduce a finding with
#   build-fuzz/<name>_fuzz build-fuzz/crashes/<name>/<file>
#
# Exits 77 (CTest's skip code) when clang++-14 or libFuzzer (libclang-rt-14-dev)
# is missing. Builds and runs under `nice -n 10`.
#
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (parallel compiles,
# default min(nproc, 2)), CXX_FUZZ (default clang++-14).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

ALL_TARGETS=(safetensors model_config tokenizer csv report_parser items corpus run_config)

# Sources each harness links, beyond fuzz/<name>_fuzz.cpp: the parser's file and
# what it calls. All torch-free (the parsers in model/ are; see fuzz/RESULTS.md).
COMMON_SRC="src/core/error.cpp src/core/fs.cpp src/core/json.cpp"
declare -A SRC=(
  [safetensors]="src/model/safetensors.cpp"
  [model_config]="src/model/config.cpp"
  [tokenizer]="src/text/bpe_tokenizer.cpp src/text/bpe_model.cpp src/text/bpe_stages.cpp"
  [csv]="src/data/csv.cpp"
  [report_parser]="src/data/report_parser.cpp"
  [items]="src/data/item.cpp src/data/hierarchy.cpp src/core/ids.cpp"
  [corpus]="src/data/corpus.cpp src/data/findings.cpp src/core/ids.cpp src/core/digest.cpp src/core/manifest.cpp"
  [run_config]="src/pipeline/run_config.cpp src/core/ids.cpp src/core/ranges.cpp src/data/hierarchy.cpp
                src/data/preset.cpp src/eval/result_header.cpp src/core/manifest.cpp src/core/digest.cpp"
)
# fuzz/make_seeds.cpp: every writer whose output seeds a target.
SEED_SRC="src/model/safetensors.cpp src/model/config.cpp src/data/item.cpp src/data/hierarchy.cpp src/core/ids.cpp
  src/data/corpus.cpp src/data/findings.cpp src/core/digest.cpp src/core/manifest.cpp src/core/rng.cpp
  src/data/report_writer.cpp src/data/report_findings.cpp src/data/report_phrases.cpp src/data/report_style.cpp
  src/data/report_text.cpp src/data/clinical_course.cpp src/data/report_parser.cpp src/pipeline/run_config.cpp
  src/core/ranges.cpp src/data/preset.cpp src/eval/result_header.cpp"
declare -A LIBS=([corpus]="-lcrypto" [run_config]="-lcrypto" [tokenizer]="-licui18n -licuuc")
# Longest input per format: a few times the largest seed, small enough that
# the fuzzer spends its time on structure rather than on bulk.
declare -A MAX_LEN=([safetensors]=8192 [model_config]=4096 [tokenizer]=20000 [csv]=8192 [report_parser]=8192
                    [items]=8192 [corpus]=16384 [run_config]=4096)

seconds=600
build_only=0
run_only=0
make_seeds=0
targets=()
while (($#)); do
  case "$1" in
    --smoke) seconds=30 ;;
    --seconds)
      [[ "${2:-}" =~ ^[0-9]+$ ]] && (($2 > 0)) || { echo "fuzz.sh: --seconds needs a positive integer" >&2; exit 2; }
      seconds=$2
      shift
      ;;
    --build-only) build_only=1 ;;
    --run-only) run_only=1 ;;
    --make-seeds) make_seeds=1 ;;
    -h | --help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      [[ -n "${SRC[$1]+x}" ]] || { echo "fuzz.sh: unknown target '$1' (known: ${ALL_TARGETS[*]})" >&2; exit 2; }
      targets+=("$1")
      ;;
  esac
  shift
done
((${#targets[@]})) || targets=("${ALL_TARGETS[@]}")

CXX=${CXX_FUZZ:-clang++-14}
OUT=${FUZZ_BUILD_DIR:-build-fuzz}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

# --- toolchain check: skip (77) rather than fail when the tools are missing ---
if ! command -v "$CXX" >/dev/null 2>&1; then
  echo "fuzz.sh: SKIPPED: $CXX not found (Debian: apt-get install clang-14 libclang-rt-14-dev)"
  exit 77
fi
probe_dir=$(mktemp -d)
trap 'rm -rf "$probe_dir"' EXIT
printf '#include <cstdint>\n#include <cstddef>\nextern "C" int LLVMFuzzerTestOneInput(const uint8_t*, size_t) { return 0; }\n' \
  >"$probe_dir/probe.cpp"
if ! "$CXX" -fsanitize=fuzzer,address,undefined "$probe_dir/probe.cpp" -o "$probe_dir/probe" >"$probe_dir/log" 2>&1; then
  echo "fuzz.sh: SKIPPED: $CXX cannot link a libFuzzer + ASan/UBSan binary (Debian: apt-get install libclang-rt-14-dev):"
  sed 's/^/  /' "$probe_dir/log" | head -5
  exit 77
fi
if [ ! -f /usr/include/nlohmann/json.hpp ] || [ ! -f /usr/include/openssl/sha.h ]; then
  echo "fuzz.sh: SKIPPED: nlohmann-json3-dev or libssl-dev missing (scripts/setup.sh installs them)"
  exit 77
fi

if ((!run_only)); then
  # --- build: one object per source file, shared by the harnesses ---
  # Objects are instrumented for coverage (fuzzer-no-link) and both sanitizers;
  # any UBSan report aborts, so libFuzzer records it as a crash.
  CXXFLAGS="-std=c++20 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
-fno-sanitize-recover=all -Isrc -Ifuzz -Wall -Wextra -Wno-unused-parameter"
  {
    echo "# Generated by scripts/fuzz.sh; do not edit."
    echo "CXX := $CXX"
    echo "CXXFLAGS := $CXXFLAGS"
    echo "ROOT := $ROOT"
    echo "all:"
    echo "$OUT/obj/%.o: \$(ROOT)/%.cpp"
    printf '\t@mkdir -p $(dir $@)\n\t@echo "  CXX $*.cpp"\n'
    printf '\t@cd $(ROOT) && $(CXX) $(CXXFLAGS) -MMD -MP -c $< -o $@\n'
    echo "-include \$(shell find $OUT/obj -name '*.d' 2>/dev/null)"
    for t in "${targets[@]}"; do
      objs=""
      for s in fuzz/${t}_fuzz.cpp $COMMON_SRC ${SRC[$t]}; do objs+=" $OUT/obj/${s%.cpp}.o"; done
      echo "all: $OUT/${t}_fuzz"
      echo "$OUT/${t}_fuzz:$objs"
      printf '\t@echo "  LINK %s"\n' "${t}_fuzz"
      printf '\t@$(CXX) -fsanitize=fuzzer,address,undefined $^ -o $@ %s\n' "${LIBS[$t]:-}"
    done
    objs=""
    for s in fuzz/make_seeds.cpp $COMMON_SRC $SEED_SRC; do objs+=" $OUT/obj/${s%.cpp}.o"; done
    echo "$OUT/make_seeds:$objs"
    printf '\t@echo "  LINK make_seeds"\n'
    printf '\t@$(CXX) -fsanitize=fuzzer-no-link,address,undefined $^ -o $@ -lcrypto\n'
  } >"$OUT/Makefile"
  # Objects depend on the flags (a change rebuilds them), not on the regenerated Makefile.
  echo "$CXX $CXXFLAGS" | cmp -s - "$OUT/flags.txt" 2>/dev/null || echo "$CXX $CXXFLAGS" >"$OUT/flags.txt"
  jobs=${FUZZ_JOBS:-$(($(nproc) < 2 ? $(nproc) : 2))}
  echo "[fuzz] building ${targets[*]} into $OUT (clang: $CXX, $jobs jobs)"
  if ((make_seeds)); then
    nice -n 10 make --no-print-directory -f "$OUT/Makefile" -j "$jobs" "$OUT/make_seeds"
    ASAN_OPTIONS=detect_leaks=0 "$OUT/make_seeds" fuzz/corpus
    echo "[fuzz] seeds written under fuzz/corpus/ ($(cat fuzz/corpus/*/* | wc -c) bytes in all)"
    exit 0
  fi
  nice -n 10 make --no-print-directory -f "$OUT/Makefile" -j "$jobs" all
else
  for t in "${targets[@]}"; do
    [ -x "$OUT/${t}_fuzz" ] || { echo "fuzz.sh: $OUT/${t}_fuzz is not built (run scripts/fuzz.sh --build-only first)" >&2; exit 2; }
  done
fi
((build_only)) && exit 0

# --- run ---
export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
mkdir -p "$OUT/logs"
summary="$OUT/summary.txt"
((run_only)) && summary="$OUT/summary-$(IFS=-; echo "${targets[*]}").txt"
{
  echo "# scripts/fuzz.sh --seconds $seconds ${targets[*]}"
  echo "# $(date -u '+%Y-%m-%d %H:%M:%S UTC')  commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
    "$(git diff --quiet HEAD -- src fuzz 2>/dev/null || echo '(src or fuzz modified)')"
  printf '%-14s %10s %8s %6s %8s %8s  %s\n' target seconds execs cov ft corpus result
} >"$summary"
failed=()
for t in "${targets[@]}"; do
  crashes="$OUT/crashes/$t"
  work="$OUT/corpus/$t"
  log="$OUT/logs/$t.log"
  mkdir -p "$crashes" "$work"
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=("-dict=fuzz/$t.dict")
  echo "[fuzz] $t: ${seconds}s, -max_len=${MAX_LEN[$t]}, log $log"
  before=$(find "$crashes" -type f | wc -l)
  set +e
  nice -n 10 "$OUT/${t}_fuzz" "$work" "fuzz/corpus/$t" "${dict[@]}" \
    -max_total_time="$seconds" -max_len="${MAX_LEN[$t]}" -timeout=5 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes/" -print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 \
    >"$log" 2>&1
  rc=$?
  set -e
  after=$(find "$crashes" -type f | wc -l)
  # The final status line: "#1234567 DONE cov: 812 ft: 2950 corp: 412/38Kb ..."
  # (after a finding there is none: take the last status line instead).
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1 || true)
  execs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || true)
  [ -n "$execs" ] || execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
  cov=$(grep -oE 'cov: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || true)
  ft=$(grep -oE 'ft: [0-9]+' <<<"$last" | grep -oE '[0-9]+' || true)
  corp=$(grep -oE 'corp: [0-9]+/[0-9]+[a-zA-Z]*' <<<"$last" | sed 's/corp: //' || true)
  if ((rc != 0)) || ((after > before)); then
    result="FINDING (exit $rc; $((after - before)) new file(s) in $crashes)"
    failed+=("$t")
    echo "[fuzz] $t: FINDING; the report:"
    grep -m1 -B2 -A25 -E '^==[0-9]+==ERROR|runtime error:|terminate called|fuzz invariant failed|ALARM: working on|out-of-memory' \
      "$log" | head -60 || tail -40 "$log"
  else
    result="ok"
  fi
  printf '%-14s %10s %8s %6s %8s %8s  %s\n' "$t" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
    "$result" | tee -a "$summary"
done
echo "[fuzz] summary in $summary"
cat "$summary"
if ((${#failed[@]})); then
  echo "[fuzz] findings in: ${failed[*]}" >&2
  exit 1
fi
echo "[fuzz] no findings"
