#!/usr/bin/env bash
# Installs missing packages, then configures and builds callq in ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" > /dev/null
cmake --build build -j "${CALLQ_BUILD_JOBS:-2}"
