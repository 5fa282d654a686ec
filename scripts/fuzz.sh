#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/
# and runs them.
#
#   scripts/fuzz.sh TARGET SECONDS   run one target for that long (by hand)
#   scripts/fuzz.sh ci [RUNS]        every target, RUNS inputs each (default
#                                    20000) over its committed seed corpus
#
# Targets: fuzz_form fuzz_json_bodies fuzz_signature fuzz_event_codec
# fuzz_snapshot. Seeds are in tests/fuzz/corpus/TARGET/; new inputs found
# by a long run go to build-fuzz/corpus/TARGET/ (copy the good ones over).
# A crash, leak or hang (timeout 10 s per input) fails with libFuzzer's
# report and the input that caused it.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh fuzz
targets=(fuzz_form fuzz_json_bodies fuzz_signature fuzz_event_codec fuzz_snapshot)
if [ $# -lt 1 ]; then
  sed -n '2,13p' "$0" >&2
  exit 2
fi
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Fuzz -DCMAKE_CXX_FLAGS_FUZZ="-O1 -g1" -DCALLQ_FUZZ=ON \
  -DCMAKE_CXX_COMPILER=clang++ -DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz -j "${CALLQ_BUILD_JOBS:-2}" --target fuzz_targets
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_one() {  # target, extra libFuzzer flags...
  local t=$1; shift
  mkdir -p "build-fuzz/corpus/$t"
  "build-fuzz/tests/fuzz/$t" -timeout=10 -max_len=65536 "$@" \
    "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t"
}
if [ "$1" = ci ]; then
  runs=${2:-20000}
  for t in "${targets[@]}"; do
    echo "fuzz: $t, $runs runs" >&2
    run_one "$t" -runs="$runs" -print_final_stats=1 2>&1 | grep -E "^(stat::|INFO: Seed|Done|==)" || true
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz: $t FAILED" >&2; exit 1; }
  done
  exit 0
fi
target=$1
seconds=${2:-60}
if [[ ! " ${targets[*]} " =~ " $target " ]]; then
  echo "fuzz: unknown target '$target' (${targets[*]})" >&2
  exit 2
fi
run_one "$target" -max_total_time="$seconds" -print_final_stats=1
