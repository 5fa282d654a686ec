#!/usr/bin/env bash
# A throwaway pg_auto_failover formation (Debian's postgresql-15-auto-failover
# and pg-auto-failover-cli) on this machine, for callq's tests: a monitor
# and two data nodes with synchronous replication, configured as
# packaging/ha/pg_auto_failover.sh does it (trust on loopback instead of
# SCRAM and TLS). Everything lives in DIR; nothing touches a system-wide
# server.
#
#   pg-auto-failover.sh start DIR     creates and runs the monitor and the
#                                     two nodes, waits until one is primary
#                                     and the other secondary; prints
#                                     callq's multi-host URL
#   pg-auto-failover.sh url DIR       prints that URL again
#   pg-auto-failover.sh primary DIR   prints the primary's node (1 or 2);
#                                     fails when none is primary
#   pg-auto-failover.sh kill-primary DIR
#                                     the primary node dies: SIGKILL to its
#                                     pg_autoctl keeper and its postmaster
#                                     at once; prints its node. (Kill the
#                                     postmaster alone and the keeper
#                                     restarts PostgreSQL in place: no
#                                     failover, in 2 of 3 runs here.)
#   pg-auto-failover.sh restart DIR NODE
#                                     runs NODE's keeper again (it rejoins
#                                     the formation as a standby)
#   pg-auto-failover.sh wait-promoted DIR NODE [SECONDS]
#                                     waits until the monitor has promoted
#                                     NODE (it reports wait_primary or
#                                     primary; default 120 s); prints NODE
#   pg-auto-failover.sh wait-primary DIR NODE [SECONDS]
#                                     waits until NODE is primary and the
#                                     other node secondary (default 120 s);
#                                     prints NODE
#   pg-auto-failover.sh state DIR     pg_autoctl show state
#   pg-auto-failover.sh stop DIR      stops the nodes, then the monitor
#
# The monitor's timers are shortened for tests (health checks every
# second, a node unhealthy after 3 s, promotion 5 s after the primary's
# demotion was asked for): with pg_auto_failover's defaults (5 s, 20 s,
# 30 s) the standby was promoted 51 s after the primary died, here.
# PAF_DEFAULT_TIMERS=1 keeps the defaults.
#
# As root, everything runs as the postgres user (initdb refuses root).
set -euo pipefail
bin=/usr/lib/postgresql/15/bin
if ! command -v pg_autoctl > /dev/null || [ ! -x "$bin/initdb" ]; then
  echo "pg-auto-failover: pg_autoctl or PostgreSQL 15 not found: run ./scripts/install-deps.sh pg" >&2
  exit 2
fi
as_owner=()
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); fi

cmd=${1:-}
case "$cmd" in
  start|url|primary|kill-primary|state|stop) [ $# -eq 2 ] || { echo "usage: pg-auto-failover.sh $cmd DIR" >&2; exit 2; } ;;
  restart) [ $# -eq 3 ] || { echo "usage: pg-auto-failover.sh restart DIR NODE" >&2; exit 2; } ;;
  wait-primary|wait-promoted) [ $# -ge 3 ] || { echo "usage: pg-auto-failover.sh $cmd DIR NODE [SECONDS]" >&2; exit 2; } ;;
  *) echo "usage: pg-auto-failover.sh start|url|primary|kill-primary|restart|wait-promoted|wait-primary|state|stop DIR ..." >&2; exit 2 ;;
esac
mkdir -p "$2"
dir=$(cd "$2" && pwd)

# pg_autoctl keeps its configuration and state under XDG directories: the
# formation's own, inside DIR.
autoctl() {
  "${as_owner[@]}" env PATH="$bin:$PATH" XDG_CONFIG_HOME="$dir/xdg/config" \
    XDG_DATA_HOME="$dir/xdg/data" XDG_RUNTIME_DIR="$dir/xdg/run" pg_autoctl "$@"
}

port_free() { ! (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null; }

free_port() {
  local port
  for _ in $(seq 1 50); do
    # Below the kernel's ephemeral ports (32768 and up), which a client's
    # socket may take between this check and the server's bind.
    port=$(( (RANDOM % 12000) + 20000 ))
    if port_free "$port" && port_free $((port + 1)) && port_free $((port + 2)); then
      echo "$port"
      return 0
    fi
  done
  echo "pg-auto-failover: no free ports found" >&2
  return 1
}

url_of() {
  local base
  base=$(cat "$dir/port")
  echo "postgresql://postgres@127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))/callq?target_session_attrs=read-write&connect_timeout=2"
}

# The state of node N (1 or 2) as the monitor reports it, e.g. "primary".
node_state() {
  autoctl show state --pgdata "$dir/monitor" 2> /dev/null |
    awk -F'|' -v name="node_$1" '{ gsub(/ /, "") } $1 == name { print $6 " " $7 }'
}

# Whether node $1 is primary and node $2 secondary, each as reported and
# as assigned.
settled() {
  [ "$(node_state "$1")" = "primary primary" ] && [ "$(node_state "$2")" = "secondary secondary" ]
}

# Runs "$@" every half second until it succeeds. After SECONDS it prints
# "pg-auto-failover: WHAT after SECONDS s" and the formation's state, and
# fails.
wait_until() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$(( $(date +%s) + seconds ))
  until "$@"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "pg-auto-failover: $what after $seconds s" >&2
      autoctl show state --pgdata "$dir/monitor" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

# Whether command $1 or command $2 (each one word) succeeds.
either() { "$1" || "$2"; }

# Whether the monitor answers.
monitor_up() { autoctl show state --pgdata "$dir/monitor" > /dev/null 2>&1; }

# Whether node 1 runs alone, as the primary of a formation of one.
single() { [ "$(node_state 1)" = "single single" ]; }

# Whether the monitor has promoted node $1.
promoted() { node_state "$1" | grep -Eq '^(wait_primary|primary) '; }

# Whether node 2 has joined node 1 as its standby; fails the script at once
# when a keeper gave up. The standby's pg_basebackup waits for a checkpoint
# on the primary, which pg_autoctl does not ask to be fast: spread over
# checkpoint_timeout, that took 93 s here. A CHECKPOINT on the primary
# finishes it at once.
joined() {
  for n in 1 2; do
    if ! kill -0 "$(cat "$dir/node$n.pid")" 2> /dev/null; then
      echo "pg-auto-failover: node_$n's keeper stopped:" >&2
      tail -20 "$dir/node$n.log" >&2
      exit 1
    fi
  done
  "${as_owner[@]}" psql -q -h 127.0.0.1 -p $(( $(cat "$dir/port") + 1 )) -U postgres -d callq \
    -c CHECKPOINT > /dev/null 2>&1 || true
  settled 1 2
}

# Every process under `pid` (its children, theirs, ...), `pid` first.
process_tree() {
  echo "$1"
  for child in $(pgrep -P "$1" || true); do process_tree "$child"; done
}

# Runs node N's keeper in the background, recording its pid.
run_node() {
  autoctl run --pgdata "$dir/node$1" >> "$dir/node$1.log" 2>&1 &
  echo $! > "$dir/node$1.pid"
}

primary_node() {
  for n in 1 2; do
    case "$(node_state "$n")" in primary*|wait_primary*) echo "$n"; return 0 ;; esac
  done
  return 1
}

# Whether a server of the formation could not bind its port: another
# process took it between free_port's check and the bind (the keeper then
# retries forever on the same port).
bind_failed() { grep -qs "Address already in use" "$dir"/*.log; }

# Whether the monitor could not start: its port taken, or its keeper gone.
monitor_gone() { bind_failed || ! kill -0 "$(cat "$dir/monitor.pid")" 2> /dev/null; }

# Stops the nodes, then the monitor, and any postmaster a killed keeper left.
stop_all() {
  # `pg_autoctl stop` signals each keeper through its pid file; the keeper
  # stops its PostgreSQL and exits. Nodes first, the monitor last.
  for p in node2 node1 monitor; do
    if [ -d "$dir/$p" ]; then autoctl stop --pgdata "$dir/$p" > /dev/null 2>&1 || true; fi
  done
  for p in node2 node1 monitor; do
    [ -f "$dir/$p.pid" ] || continue
    pid=$(cat "$dir/$p.pid")
    for _ in $(seq 1 60); do kill -0 "$pid" 2> /dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2> /dev/null; then  # still there: no mercy
      autoctl stop --pgdata "$dir/$p" --immediate > /dev/null 2>&1 || true
      pkill -KILL -f "pg_autoctl .*--pgdata $dir/$p( |\$)" 2> /dev/null || true
      kill -KILL "$pid" 2> /dev/null || true
    fi
    rm -f "$dir/$p.pid"
  done
  # A postmaster left behind by a keeper that was killed.
  for p in node2 node1 monitor; do
    if [ -f "$dir/$p/postmaster.pid" ]; then
      "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/$p" -m immediate -w -t 30 stop > /dev/null 2>&1 || true
    fi
  done
}

# Creates and runs the monitor and the two nodes on ports from free_port.
# Returns 0 once node_1 is primary and node_2 secondary, 3 when a server
# could not bind its port (the caller starts again on other ports), 1 on
# any other failure (with the logs' tails on stderr).
start_formation() {
  local base monitor
  base=$(free_port)
  echo "$base" > "$dir/port"
  monitor="postgres://autoctl_node@127.0.0.1:$base/pg_auto_failover?sslmode=disable"
  # Each `--run` process stays in the foreground as the node's keeper.
  autoctl create monitor --pgdata "$dir/monitor" --pgport "$base" --hostname 127.0.0.1 \
    --listen 127.0.0.1 --auth trust --no-ssl --run > "$dir/monitor.log" 2>&1 &
  echo $! > "$dir/monitor.pid"
  wait_until "the monitor is not up" 60 either monitor_gone monitor_up || { tail -20 "$dir/monitor.log" >&2; return 1; }
  if monitor_gone; then  # it failed at its start: another try, on other ports
    tail -5 "$dir/monitor.log" >&2
    return 3
  fi
  if [ "${PAF_DEFAULT_TIMERS:-0}" != 1 ]; then
    "${as_owner[@]}" psql -q -h 127.0.0.1 -p "$base" -U postgres -d pg_auto_failover \
      -v ON_ERROR_STOP=1 > /dev/null <<'SQL'
ALTER SYSTEM SET pgautofailover.health_check_period = 1000;
ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000;
ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500;
ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 3000;
ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 5000;
SELECT pg_reload_conf();
SQL
  fi
  for n in 1 2; do
    autoctl create postgres --pgdata "$dir/node$n" --pgport $((base + n)) --hostname 127.0.0.1 \
      --name "node_$n" --dbname callq --listen 127.0.0.1 --auth trust --no-ssl --monitor "$monitor" \
      --run > "$dir/node$n.log" 2>&1 &
    echo $! > "$dir/node$n.pid"
    # The first node must be primary before the second joins as its
    # standby (two nodes created at once race for the primary role).
    if [ "$n" = 1 ]; then
      wait_until "node_1 not started" 120 either bind_failed single || { tail -20 "$dir/node1.log" >&2; return 1; }
      if bind_failed; then return 3; fi
    fi
  done
  wait_until "node_1 not primary with node_2 secondary" 180 either bind_failed joined || return 1
  if bind_failed; then return 3; fi
  return 0
}

case "$cmd" in
  start)
    chmod 755 "$dir"
    for attempt in 1 2 3; do
      # pg_autoctl keeps each server's pid and state files under
      # XDG_RUNTIME_DIR/pg_autoctl/PGDATA (under /tmp/pg_autoctl when that
      # directory is missing), and creates the path on first use: the
      # keeper and a `show state` run at the same moment raced for it
      # ("Failed to create state directory ...: File exists"), and the
      # monitor died at its start. The paths exist before anything runs.
      for p in monitor node1 node2; do
        mkdir -p "$dir/xdg/run/pg_autoctl$dir/$p" "$dir/xdg/config/pg_autoctl$dir/$p" \
          "$dir/xdg/data/pg_autoctl$dir/$p"
      done
      chmod 700 "$dir/xdg/run"
      if [ ${#as_owner[@]} -gt 0 ]; then chown -R postgres:postgres "$dir"; fi
      rc=0
      start_formation || rc=$?
      [ "$rc" -eq 3 ] || break
      echo "pg-auto-failover: a server could not start (attempt $attempt): again, on other ports" >&2
      stop_all
      rm -rf "${dir:?}"/*
      rc=1
    done
    [ "$rc" -eq 0 ] || exit 1
    url_of
    ;;
  url)
    url_of
    ;;
  primary)
    primary_node
    ;;
  kill-primary)
    n=$(primary_node) || { echo "pg-auto-failover: no primary" >&2; exit 1; }
    # The keeper's processes and the postmaster, in one kill: nobody is
    # left to restart PostgreSQL.
    pids=$(process_tree "$(cat "$dir/node$n.pid")")
    pids="$pids $(head -1 "$dir/node$n/postmaster.pid")"
    # shellcheck disable=SC2086
    kill -KILL $pids 2> /dev/null || true
    rm -f "$dir/node$n.pid"
    echo "$n"
    ;;
  restart)
    run_node "$3"
    echo "$3"
    ;;
  wait-promoted)
    wait_until "node_$3 not promoted" "${4:-120}" promoted "$3" || exit 1
    echo "$3"
    ;;
  wait-primary)
    n=$3
    wait_until "node_$n not primary with node_$((3 - n)) secondary" "${4:-120}" settled "$n" $((3 - n)) || exit 1
    echo "$n"
    ;;
  state)
    autoctl show state --pgdata "$dir/monitor"
    ;;
  stop)
    stop_all
    ;;
esac
