#!/usr/bin/env bash
# The same database with pg_auto_failover (Debian:
# postgresql-15-auto-failover) instead of Patroni: a monitor, then two data
# nodes (run each block on its own host). The formation's
# number_sync_standbys = 1 makes every commit wait for the standby.
set -euo pipefail
# monitor host
pg_autoctl create monitor --pgdata /var/lib/postgresql/monitor --hostname mon.example.internal \
  --auth scram-sha-256 --ssl-self-signed --run &
# each data host (db1, then db2)
pg_autoctl create postgres --pgdata /var/lib/postgresql/15/callq --hostname "$(hostname -f)" \
  --auth scram-sha-256 --ssl-self-signed --dbname callq \
  --monitor 'postgres://autoctl_node@mon.example.internal:5432/pg_auto_failover?sslmode=require' \
  --run &
# once both are up, on any node
pg_autoctl set formation number-sync-standbys 1
# callq then connects with (README, "High availability"):
#   CALLQ_STORE='postgresql://callq@db1.example.internal:5432,db2.example.internal:5432/callq?target_session_attrs=read-write&connect_timeout=2'
