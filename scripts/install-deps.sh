#!/usr/bin/env bash
# Installs the Debian bookworm packages callq builds and tests with.
# Does nothing when every package is already installed; otherwise runs
# apt-get update once and installs only what is missing.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libcaf-dev librocksdb-dev libcpp-httplib-dev nlohmann-json3-dev catch2
  libssl-dev libcli11-dev libhowardhinnant-date-dev tzdata libjs-chart.js libpq-dev
)
# `install-deps.sh fuzz`: also clang and its libFuzzer/sanitizer runtimes.
# `install-deps.sh browser`: also Chromium and Node.js for the browser tests
# (their npm packages: scripts/browser-deps.sh).
# `install-deps.sh node`: also Node.js and npm (scripts/voice-sdk.sh).
# `install-deps.sh pg`: also the PostgreSQL 15 server, for the tests'
# throwaway clusters (scripts/pg-cluster.sh), pgbench and pg_auto_failover
# (scripts/pg-auto-failover.sh).
# `install-deps.sh test`: also what tests that would otherwise be skipped
# need: systemd (systemd-analyze verify checks the packaged unit).
# `install-deps.sh mutants`: also Python 3, for the mutation survey
# (scripts/mutants.py; not part of the test command).
for extra in "$@"; do
  case "$extra" in
    fuzz) packages+=(clang libclang-rt-14-dev) ;;
    # server, pgbench (pg_basebackup and psql come with it); pg_auto_failover
    # (its monitor extension and pg_autoctl) for the failover manager test;
    # procps for pgrep and pkill (scripts/pg-auto-failover.sh)
    pg) packages+=(postgresql-15 postgresql-15-auto-failover pg-auto-failover-cli procps) ;;
    test) packages+=(systemd) ;;
    mutants) packages+=(python3) ;;
    node)
      # Node.js and npm alone (scripts/voice-sdk.sh fetches the agent page's softphone SDK).
      if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
        packages+=(nodejs npm)
      fi
      ;;
    browser)
      packages+=(chromium)
      # Node.js and npm from Debian unless some Node.js is already there.
      if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
        packages+=(nodejs npm)
      fi
      ;;
    *) echo "install-deps: unknown extra '$extra' (fuzz, browser, node, pg, test, mutants)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
