#!/usr/bin/env bash
# Reads CTest's JUnit file (ctest --output-junit) and prints how many tests
# were skipped and which, then the ten slowest tests with their times, and
# for each failed test the lines of its output from its first failure on
# (at most 40): CI's log keeps only its start and its end.
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
failed=$(printf '%s\n' "$cases" | awk -F'\t' '$2 == "fail" || $2 == "failed"' || true)
if [ -n "$failed" ]; then
  echo "what each failed test printed, from its first failure on:"
  # The <system-out> of each failed <testcase>, from its first line naming
  # a failure (Catch's "FAILED:", a script's "error"/"after N s"), else its
  # last 40 lines.
  awk '
    function unescape(s) {
      gsub(/&apos;/, "\047", s); gsub(/&quot;/, "\"", s); gsub(/&lt;/, "<", s)
      gsub(/&gt;/, ">", s); gsub(/&amp;/, "\\&", s); return s
    }
    function flush(   i, from) {
      from = first ? first : (n > 40 ? n - 39 : 1)
      print "  --- " name
      for (i = from; i <= n && i < from + 40; ++i) print "    " lines[i]
      if (n >= from + 40) print "    [" n - from - 39 " more lines]"
    }
    /<testcase / {
      failing = $0 ~ /status="fail(ed)?"/
      name = $0; sub(/.*<testcase name="/, "", name); sub(/".*/, "", name); name = unescape(name)
      n = 0; first = 0; inside = 0
    }
    failing && /<system-out>/ { inside = 1; sub(/.*<system-out>/, "") }
    failing && inside {
      done = sub(/<\/system-out>.*/, "")
      lines[++n] = unescape($0)
      if (!first && lines[n] ~ /FAILED|[Ee]rror|after [0-9]+ s/) first = n
      if (done) { inside = 0; flush() }
    }
  ' "$junit"
fi
