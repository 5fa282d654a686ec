#!/usr/bin/env bash
# Builds callq and runs the whole test suite (unit, property and
# end-to-end tests) through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
cd build
ctest --output-on-failure -j "${CALLQ_TEST_JOBS:-2}" --timeout 600
