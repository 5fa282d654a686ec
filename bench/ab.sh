#!/usr/bin/env bash
# bench/ab.sh REF BENCH [ARGS...]
#
# Compares the build of git revision REF with the working tree (HEAD plus
# whatever is uncommitted) on one benchmark, side by side in one sitting:
# the two builds run BENCH alternately, CALLQ_AB_RUNS pairs (default 3,
# at least 3), the first of each pair alternating too, so that a machine
# that slows down or speeds up meanwhile weighs on both alike. Every
# pair's output is printed whole, labelled, and kept in
# build-ab/logs/<time>-<bench>/.
#
# REF is built once, in a git worktree at build-ab/<sha> (kept for the
# next call; delete build-ab/ to drop it). Benchmarks that start a real
# `callq serve` (webhook_load, call_load, failover_bench, recovery_bench)
# run as this tree's build of BENCH against each build's `callq` (one
# client, two servers: the benchmark's own code is not compared), so
# only REF's `callq` is built. Any other BENCH links the runtime in, so
# REF's own BENCH is built and run with the same ARGS.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: bench/ab.sh REF BENCH [ARGS...]" >&2
  exit 2
fi
ref=$1
bench=$2
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
runs=${CALLQ_AB_RUNS:-3}
if ! [[ "$runs" =~ ^[0-9]+$ ]] || [ "$runs" -lt 3 ]; then
  echo "ab.sh: CALLQ_AB_RUNS must be a whole number of at least 3" >&2
  exit 2
fi
sha=$(git rev-parse --verify --quiet "$ref^{commit}") || {
  echo "ab.sh: '$ref' is not a commit here" >&2
  exit 2
}
jobs=${CALLQ_BUILD_JOBS:-2}
type=${CMAKE_BUILD_TYPE:-RelWithDebInfo}

case "$bench" in
  webhook_load | call_load | failover_bench | recovery_bench) server_bench=1 ;;
  *) server_bench=0 ;;
esac

# This tree's build.
./scripts/build.sh callq "$bench"
here_bench="$top/build/bench/$bench"
here_callq="$top/build/app/callq"

# REF's build, in its own worktree.
wt="$top/build-ab/$sha"
if [ ! -d "$wt" ]; then
  mkdir -p "$top/build-ab"
  git worktree add --detach "$wt" "$sha" > /dev/null
fi
cmake -S "$wt" -B "$wt/build" -DCMAKE_BUILD_TYPE="$type" > /dev/null
if [ "$server_bench" = 1 ]; then
  cmake --build "$wt/build" -j "$jobs" --target callq
  ref_run=(env CALLQ_BENCH_BINARY="$wt/build/app/callq" "$here_bench" "$@")
else
  cmake --build "$wt/build" -j "$jobs" --target "$bench"
  ref_run=("$wt/build/bench/$bench" "$@")
fi
here_run=(env CALLQ_BENCH_BINARY="$here_callq" "$here_bench" "$@")

logs="$top/build-ab/logs/$(date -u +%Y%m%dT%H%M%SZ)-$bench"
mkdir -p "$logs"
here_desc="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/README.md' || echo '+changes')"
echo "ab.sh: $bench $* -- A = $ref ($(git rev-parse --short "$sha")), B = this tree ($here_desc); $runs pairs; logs in $logs"
run_one() {  # label, pair, command...
  local label=$1 pair=$2
  shift 2
  local out="$logs/pair$pair-$label.txt"
  echo "----- pair $pair, $label"
  if ! "$@" > "$out" 2>&1; then
    echo "(exited non-zero)" >> "$out"
  fi
  cat "$out"
}
for ((i = 1; i <= runs; ++i)); do
  if ((i % 2 == 1)); then
    run_one "A-$ref" "$i" "${ref_run[@]}"
    run_one "B-tree" "$i" "${here_run[@]}"
  else
    run_one "B-tree" "$i" "${here_run[@]}"
    run_one "A-$ref" "$i" "${ref_run[@]}"
  fi
done
