#!/usr/bin/env bash
# Builds callq and runs the whole test suite (unit, property, end-to-end
# and browser tests) through CTest, then every libFuzzer target for a short,
# fixed number of inputs over its seed corpus (scripts/fuzz.sh ci).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh pg
./scripts/build.sh
./scripts/browser-deps.sh
(cd build && ctest --output-on-failure -j "${CALLQ_TEST_JOBS:-2}" --timeout 600)
./scripts/fuzz.sh ci "${CALLQ_FUZZ_RUNS:-20000}"
