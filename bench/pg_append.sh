#!/usr/bin/env bash
# The PostgreSQL backend's benchmarks, in one run on one throwaway cluster
# (scripts/pg-cluster.sh; synchronous_commit = on, fsync = on):
#
#   1. durable appends through callq's journal (group commit: one
#      transaction per batch) from 64 producers: build/bench/journal_bench
#   2. PostgreSQL's own single-row inserts of the same size, one
#      transaction each, from 64 clients: pgbench
#   3. leader failover with 10,000 waiting calls: build/bench/failover_bench
#   4. the whole life of calls over HTTP: build/bench/call_load
#
#   bench/pg_append.sh [seconds=10]    (after: cmake --build build --target benches)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
dir=$(mktemp -d /tmp/callq-pg-bench-XXXXXX)
chmod 755 "$dir"
trap './scripts/pg-cluster.sh stop "$dir/pg" > /dev/null 2>&1 || true; rm -rf "$dir"' EXIT
url=$(./scripts/pg-cluster.sh start "$dir/pg")
db="${url%/*}/bench"
psql -q "$url" -c "CREATE DATABASE bench"
echo "PostgreSQL $(psql -Atq "$db" -c 'SHOW server_version'), synchronous_commit=$(psql -Atq "$db" -c 'SHOW synchronous_commit'), fsync=$(psql -Atq "$db" -c 'SHOW fsync'), $(nproc) CPUs"

echo "== 1. callq journal, 64 producers, one event each in flight"
./build/bench/journal_bench --store="$db" --events=200000 --producers=64 | grep -v "read+decode" || true

echo "== 2. pgbench: one single-row INSERT (~200 bytes) per transaction, 64 clients"
psql -q "$db" -c "CREATE TABLE pgbench_events (id bigserial PRIMARY KEY, stream bytea NOT NULL, record bytea NOT NULL)"
cat > "$dir/insert.sql" <<'SQL'
INSERT INTO pgbench_events (stream, record) VALUES ('\x63616c6c2f4341'::bytea, convert_to(repeat('x', 200), 'UTF8'));
SQL
pgbench -n -c 64 -j 2 -T "$secs" -f "$dir/insert.sql" "$db" 2>&1 | grep -E "^(tps|latency average|number of transactions actually)"

echo "== 3. leader failover, 10,000 waiting calls"
./build/bench/failover_bench --store="$db" --calls=10000 --runs=3

echo "== 4. call_load on PostgreSQL"
./build/bench/call_load --store="$db" --seconds="$secs" --rate=500 --agents=500 2>&1 | grep -v "^20..-" || true
