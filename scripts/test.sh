#!/usr/bin/env bash
# Builds callq and runs the whole test suite (unit, property, end-to-end
# and browser tests) through CTest, then every libFuzzer target for a short,
# fixed number of inputs over its seed corpus (scripts/fuzz.sh ci).
#
# `./scripts/test.sh --long`: the same, then the long tier, which CI (90
# minutes) does not run: the random-history property tests over 20,000
# seeds (CALLQ_LONG_PROPERTY_SEEDS; the suite runs 1,200), about a quarter
# of an hour on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
long=0
for arg in "$@"; do
  case "$arg" in
    --long) long=1 ;;
    *) echo "test.sh: unknown argument '$arg' (only --long)" >&2; exit 2 ;;
  esac
done
./scripts/install-deps.sh pg
./scripts/build.sh
./scripts/browser-deps.sh
(cd build && ctest --output-on-failure -j "${CALLQ_TEST_JOBS:-2}" --timeout 600)
./scripts/fuzz.sh ci "${CALLQ_FUZZ_RUNS:-20000}"
if [ "$long" = 1 ]; then
  (cd build && CALLQ_PROPERTY_SEEDS="${CALLQ_LONG_PROPERTY_SEEDS:-20000}" \
    ctest --output-on-failure -j "${CALLQ_TEST_JOBS:-2}" --timeout 3600 -R "random histories")
fi
