#!/usr/bin/env bash
# Reads CTest's JUnit file (ctest --output-junit) and prints how many tests
# were skipped and which, then the ten slowest tests with their times.
#
#   scripts/test-summary.sh build/ctest-junit.xml
set -euo pipefail
junit=${1:?usage: test-summary.sh CTEST_JUNIT_XML}
if [ ! -f "$junit" ]; then
  echo "test-summary: no $junit (did CTest run?)" >&2
  exit 2
fi
# One line per test case: time <TAB> status <TAB> name (names are on the
# <testcase ...> line; CTest writes one per line).
cases=$(sed -n 's/.*<testcase name="\([^"]*\)".* time="\([^"]*\)" status="\([^"]*\)".*/\2\t\3\t\1/p' "$junit" |
  sed "s/&apos;/'/g; s/&quot;/\"/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g")
total=$(printf '%s\n' "$cases" | grep -c . || true)
skipped=$(printf '%s\n' "$cases" | awk -F'\t' '$2 == "notrun"' || true)
nskipped=$(printf '%s\n' "$skipped" | grep -c . || true)
echo "tests: $total run by CTest, $nskipped skipped"
if [ "$nskipped" -gt 0 ]; then
  printf '%s\n' "$skipped" | awk -F'\t' '{ print "  skipped: " $3 }'
fi
echo "the ten slowest:"
# awk reads sort's whole output (head would close the pipe early, and sort,
# killed by SIGPIPE, would fail the script under pipefail: exit 141).
printf '%s\n' "$cases" | sort -t$'\t' -k1,1 -g -r |
  awk -F'\t' 'NR <= 10 { printf "  %7.1f s  %s\n", $1, $3 }'
