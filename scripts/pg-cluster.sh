#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster (Debian's postgresql-15) for callq's
# tests and benchmarks: in a directory of the caller's, on a free loopback
# port, trusting local connections. Nothing here touches a system-wide
# server.
#
#   pg-cluster.sh start DIR            initdb (once) and start; prints the URL
#   pg-cluster.sh standby PRIMARY DIR  a synchronous standby of the cluster
#                                      in PRIMARY (pg_basebackup); prints its URL
#   pg-cluster.sh promote DIR          promotes a standby to primary
#   pg-cluster.sh stop DIR             stops it (fast)
#   pg-cluster.sh crash DIR            stops it at once (immediate: no
#                                      checkpoint, recovery from the WAL on
#                                      the next start, on the same port)
#   pg-cluster.sh url DIR              prints the URL of a started cluster
#   pg-cluster.sh shared-start FILE    a cluster in a new directory under
#                                      the system's temporary directory,
#                                      started, its directory written to
#                                      FILE (the test run's shared cluster:
#                                      tests/pg_database.cpp reads FILE)
#   pg-cluster.sh shared-stop FILE     stops that cluster, deletes its
#                                      directory and FILE
#
# The URL is postgresql://callq@127.0.0.1:PORT/postgres. As root, the
# cluster runs as the postgres user (initdb refuses root).
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
if [ ! -x "$bin/initdb" ]; then
  echo "pg-cluster: $bin/initdb not found: run ./scripts/install-deps.sh pg" >&2
  exit 2
fi
as_owner=()
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); fi

cmd=${1:-}
case "$cmd" in
  start|stop|crash|url|promote) [ $# -eq 2 ] || { echo "usage: pg-cluster.sh $cmd DIR" >&2; exit 2; } ;;
  shared-start|shared-stop) [ $# -eq 2 ] || { echo "usage: pg-cluster.sh $cmd FILE" >&2; exit 2; } ;;
  standby) [ $# -eq 3 ] || { echo "usage: pg-cluster.sh standby PRIMARY DIR" >&2; exit 2; } ;;
  *) echo "usage: pg-cluster.sh start|standby|promote|stop|crash|url|shared-start|shared-stop ..." >&2; exit 2 ;;
esac

abs() { mkdir -p "$1" && cd "$1" && pwd; }

prepare_dir() {  # the cluster's directory, owned by whoever runs it
  local dir=$1
  mkdir -p "$dir"
  chmod 755 "$dir"
  if [ ${#as_owner[@]} -gt 0 ]; then chown postgres:postgres "$dir"; fi
}

url_of() { echo "postgresql://callq@127.0.0.1:$(cat "$1/port")/postgres"; }

# Starts the cluster in $1/data on a free port (tries a few), recording it;
# a cluster started before tries its own port first (a restart keeps its
# URL).
start_on_free_port() {
  local dir=$1
  local first=""
  if [ -f "$dir/port" ]; then first=$(cat "$dir/port"); fi
  for _ in $(seq 1 20); do
    local port=${first:-$(( (RANDOM % 30000) + 20000 ))}
    first=""
    if "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
        -o "-c port=$port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir" \
        start > /dev/null 2>&1; then
      echo "$port" > "$dir/port"
      return 0
    fi
    # "Address already in use": another port. Anything else: say so.
    if ! grep -q "already in use" "$dir/log" 2>/dev/null; then
      tail -5 "$dir/log" >&2 || true
      return 1
    fi
  done
  echo "pg-cluster: no free port found" >&2
  return 1
}

case "$cmd" in
  start)
    dir=$(abs "$2")
    prepare_dir "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U callq --auth=trust -E UTF8 \
        --locale=C.UTF-8 > "$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
      cat >> "$dir/data/postgresql.conf" <<'CONF'
# callq's test cluster
max_connections = 300
shared_buffers = 64MB
fsync = on
synchronous_commit = on
wal_level = replica
max_wal_senders = 5
wal_keep_size = 256MB
hot_standby = on
CONF
      echo "host replication callq 127.0.0.1/32 trust" >> "$dir/data/pg_hba.conf"
    fi
    start_on_free_port "$dir"
    url_of "$dir"
    ;;
  standby)
    primary=$(abs "$2")
    dir=$(abs "$3")
    prepare_dir "$dir"
    "${as_owner[@]}" "$bin/pg_basebackup" -h 127.0.0.1 -p "$(cat "$primary/port")" -U callq \
      -D "$dir/data" -R -X stream --checkpoint=fast > "$dir/basebackup.log" 2>&1 ||
      { cat "$dir/basebackup.log" >&2; exit 1; }
    # Name it, so the primary can wait for it (synchronous_standby_names).
    echo "primary_conninfo = 'host=127.0.0.1 port=$(cat "$primary/port") user=callq application_name=callq_standby'" \
      | "${as_owner[@]}" tee -a "$dir/data/postgresql.auto.conf" > /dev/null
    start_on_free_port "$dir"
    url_of "$dir"
    ;;
  promote)
    dir=$(abs "$2")
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -w -t 60 promote > /dev/null
    url_of "$dir"
    ;;
  stop)
    dir=$(abs "$2")
    if [ -f "$dir/data/postmaster.pid" ]; then
      "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop > /dev/null 2>&1 || true
    fi
    ;;
  crash)  # every process of the cluster stops at once, as in a power cut
    dir=$(abs "$2")
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop > /dev/null
    url_of "$dir"
    ;;
  url)
    url_of "$(abs "$2")"
    ;;
  shared-start)
    if [ -f "$2" ] && [ -d "$(cat "$2")" ]; then  # a run that did not clean up
      "$0" shared-stop "$2"
    fi
    dir=$(mktemp -d "${TMPDIR:-/tmp}/callq-pg-shared-XXXXXX")
    if ! "$0" start "$dir"; then
      rm -rf "$dir"
      exit 1
    fi
    echo "$dir" > "$2"
    ;;
  shared-stop)
    [ -f "$2" ] || exit 0
    dir=$(cat "$2")
    if [ -d "$dir" ]; then
      "$0" stop "$dir"
      rm -rf "$dir"
    fi
    rm -f "$2"
    ;;
esac
