#!/usr/bin/env bash
# Builds the `callq` binary alone (not the test suite: a first start
# compiles what serving needs and nothing else) and runs `callq serve`
# with its embedded defaults (RocksDB event log in ./callq-data,
# http://127.0.0.1:8080). Extra arguments go to `callq serve`, e.g.
# ./scripts/serve.sh --port 9000.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh callq
exec ./build/app/callq serve "$@"
