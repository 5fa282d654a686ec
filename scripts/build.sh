#!/usr/bin/env bash
# Installs missing packages, then configures and builds callq in ./build:
# everything, or only the CMake targets named as arguments (e.g. `callq`).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# The agent page's softphone SDK, from npm; a build without it still
# works (the page then says that the softphone is not part of the build).
./scripts/voice-sdk.sh || echo "build: the Voice SDK could not be fetched; building without the softphone" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-RelWithDebInfo}" > /dev/null
if [ $# -gt 0 ]; then
  cmake --build build -j "${CALLQ_BUILD_JOBS:-2}" --target "$@"
else
  cmake --build build -j "${CALLQ_BUILD_JOBS:-2}"
fi
