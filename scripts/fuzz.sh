#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/
# and runs them.
#
#   scripts/fuzz.sh TARGET SECONDS   run one target for that long (by hand)
#   scripts/fuzz.sh ci [RUNS]        the self-check, then every target,
#                                    RUNS inputs each (default 20000) over
#                                    its committed seed corpus
#   scripts/fuzz.sh long [SECONDS]   every target for SECONDS each (default
#                                    300; the long tier)
#
# Targets: fuzz_form fuzz_json_bodies fuzz_signature fuzz_event_codec
# fuzz_snapshot fuzz_request_framing. Seeds are in tests/fuzz/corpus/TARGET/
# (fuzz_snapshot also gets valid snapshots this build encodes); new inputs
# found by a run go to build-fuzz/corpus/TARGET/ (copy the good ones over).
# A crash, leak or hang (timeout 10 s per input) fails with libFuzzer's
# report and the input that caused it. The self-check proves that: a
# target that crashes, leaks or hangs on a known input (fuzz_selfcheck,
# tests/fuzz/selfcheck/) must fail this script's own check, or ci fails.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(fuzz_form fuzz_json_bodies fuzz_signature fuzz_event_codec fuzz_snapshot fuzz_request_framing)
if [ $# -lt 1 ]; then
  sed -n '2,19p' "$0" >&2
  exit 2
fi
./scripts/install-deps.sh fuzz
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Fuzz -DCMAKE_CXX_FLAGS_FUZZ="-O1 -g1" -DCALLQ_FUZZ=ON \
  -DCMAKE_CXX_COMPILER=clang++ -DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz -j "${CALLQ_BUILD_JOBS:-2}" --target fuzz_targets
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# fuzz_snapshot's valid seeds, from this build's own encoder.
mkdir -p build-fuzz/seeds/fuzz_snapshot
build-fuzz/tests/fuzz/snapshot_seeds replay/testdata/scenario.jsonl build-fuzz/seeds/fuzz_snapshot

# Runs target $1 with libFuzzer flags $2 (one word) over corpus dirs $3...;
# prints libFuzzer's summary lines (all of its output on a failure) and
# returns its exit status. The status is taken before any filtering, so
# no pipeline can hide it.
run_checked() {
  local t=$1 flags=$2; shift 2
  local out
  out=$(mktemp)
  local rc=0
  mkdir -p "${CALLQ_FUZZ_ARTIFACTS:-build-fuzz/artifacts}"
  "build-fuzz/tests/fuzz/$t" -timeout="${CALLQ_FUZZ_TIMEOUT:-10}" -max_len=65536 $flags \
    -artifact_prefix="${CALLQ_FUZZ_ARTIFACTS:-build-fuzz/artifacts}/$t-" \
    -print_final_stats=1 "$@" >"$out" 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    grep -E "^(stat::|INFO: Seed|Done)" "$out" || true
  else
    cat "$out"
  fi
  rm -f "$out"
  return "$rc"
}

corpora() {  # the corpus dirs of target $1
  mkdir -p "build-fuzz/corpus/$1"
  echo "build-fuzz/corpus/$1 tests/fuzz/corpus/$1"
  [ -d "build-fuzz/seeds/$1" ] && echo "build-fuzz/seeds/$1"
  return 0
}

# The self-check: each of a crash, a leak and a hang must fail run_checked.
self_check() {
  local what does marker scratch out
  for what in crash leak hang; do
    case $what in
      crash) does=crashes marker="deadly signal" ;;
      leak) does=leaks marker="LeakSanitizer: detected memory leaks" ;;
      hang) does=hangs marker="ALARM: working on the last Unit" ;;
    esac
    scratch=$(mktemp -d)
    if out=$(CALLQ_FUZZ_TIMEOUT=2 CALLQ_FUZZ_ARTIFACTS="$scratch" run_checked fuzz_selfcheck \
      "-runs=10" "$scratch" "tests/fuzz/selfcheck/$what" 2>&1); then
      rm -rf "$scratch"
      echo "fuzz: self-check FAILED: a target that $does on a known input passed" >&2
      return 1
    fi
    rm -rf "$scratch"
    if ! grep -qF "$marker" <<<"$out"; then
      printf '%s\n' "$out" >&2
      echo "fuzz: self-check FAILED: a target that $does failed, but not with '$marker'" >&2
      return 1
    fi
    echo "fuzz: self-check: a target that $does fails the step, as it must ('$marker')" >&2
  done
}

case "$1" in
  ci|long)
    self_check
    if [ "$1" = ci ]; then flags="-runs=${2:-20000}"; else flags="-max_total_time=${2:-300}"; fi
    for t in "${targets[@]}"; do
      echo "fuzz: $t, $flags" >&2
      # shellcheck disable=SC2046
      run_checked "$t" "$flags" $(corpora "$t") || { echo "fuzz: $t FAILED" >&2; exit 1; }
    done
    exit 0
    ;;
esac
target=$1
seconds=${2:-60}
if [[ ! " ${targets[*]} " =~ " $target " ]]; then
  echo "fuzz: unknown target '$target' (${targets[*]})" >&2
  exit 2
fi
# shellcheck disable=SC2046
run_checked "$target" "-max_total_time=$seconds" $(corpora "$target")
