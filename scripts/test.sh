#!/usr/bin/env bash
# Builds callq and the benchmarks (built, not run), and runs the whole
# test suite (unit, property, end-to-end,
# PostgreSQL and browser tests: CTest labels unit, e2e, pg, browser; not
# `long`)
# through CTest, then every libFuzzer target for a short, fixed number of
# inputs over its seed corpus after the fuzz step's self-check
# (scripts/fuzz.sh ci). Prints every test CTest skipped (a test that cannot
# run here says so: tests/skip.hpp) and the ten slowest tests
# (build/ctest-junit.xml holds every test's time).
#
# `./scripts/test.sh --long`: the same, then the long tier, which CI (90
# minutes) does not run: the random-history property tests over 20,000
# seeds (CALLQ_LONG_PROPERTY_SEEDS; the suite runs 1,000) from a base seed
# that changes every day and is printed (CALLQ_PROPERTY_BASE_SEED to set
# it), the tests labelled `long` (the 1,000,000-event histories), and every
# fuzz target for CALLQ_LONG_FUZZ_SECONDS (120) each; about half an hour
# on two cores. Both build the benchmarks (that they still compile)
# without running them.
set -euo pipefail
cd "$(dirname "$0")/.."
long=0
for arg in "$@"; do
  case "$arg" in
    --long) long=1 ;;
    *) echo "test.sh: unknown argument '$arg' (only --long)" >&2; exit 2 ;;
  esac
done
# Each phase's wall time, printed at the end (CI's budget: 20 minutes).
phases=""
phase_start=$SECONDS
phase_done() {
  phases="$phases  $1: $((SECONDS - phase_start)) s"$'\n'
  phase_start=$SECONDS
}
print_phases() {
  printf 'test.sh: wall time by phase (%s s in all)\n%s' "$SECONDS" "$phases"
}
./scripts/install-deps.sh pg test
phase_done "dependencies"
./scripts/build.sh
phase_done "build"
# The benchmarks are not part of the default build (bench/README.md); they
# link the runtime's headers, so a change there could break them unseen.
# Built here (about a minute once the rest is), not run.
cmake --build build -j "${CALLQ_BUILD_JOBS:-2}" --target benches
phase_done "benchmarks (built, not run)"
./scripts/browser-deps.sh
phase_done "browser dependencies"
rc=0
(cd build && ctest --output-on-failure -j "${CALLQ_TEST_JOBS:-2}" --timeout 600 -LE long \
  --output-junit ctest-junit.xml) || rc=$?
phase_done "CTest"
./scripts/test-summary.sh build/ctest-junit.xml
if [ "$rc" -ne 0 ]; then
  print_phases
  exit "$rc"
fi
./scripts/fuzz.sh ci "${CALLQ_FUZZ_RUNS:-20000}"
phase_done "fuzzing (its build and the runs)"
print_phases
if [ "$long" = 1 ]; then
  base=${CALLQ_PROPERTY_BASE_SEED:-$(( $(date +%s) / 86400 * 100000 ))}
  echo "test.sh --long: property base seed $base (CALLQ_PROPERTY_BASE_SEED=$base to run it again)" >&2
  (cd build && CALLQ_PROPERTY_BASE_SEED="$base" CALLQ_PROPERTY_SEEDS="${CALLQ_LONG_PROPERTY_SEEDS:-20000}" \
    ctest --output-on-failure -j "${CALLQ_TEST_JOBS:-2}" --timeout 3600 -R "random histories")
  (cd build && ctest --output-on-failure -j "${CALLQ_TEST_JOBS:-2}" --timeout 3600 -L long)
  ./scripts/fuzz.sh long "${CALLQ_LONG_FUZZ_SECONDS:-120}"
  phase_done "long tier"
  print_phases
fi
