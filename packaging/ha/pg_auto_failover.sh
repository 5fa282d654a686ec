#!/usr/bin/env bash
# The same database with pg_auto_failover (Debian:
# postgresql-15-auto-failover) instead of Patroni: a monitor, then two data
# nodes (run each block on its own host). With two nodes the formation's
# default number_sync_standbys = 0 already makes every commit wait for the
# standby (synchronous_standby_names = 'ANY 1 (pgautofailover_standby_2)');
# 1 needs two standbys (pg_autoctl refuses it with one). While the standby
# is down the primary (wait_primary) commits alone: availability first.
set -euo pipefail
# monitor host
pg_autoctl create monitor --pgdata /var/lib/postgresql/monitor --hostname mon.example.internal \
  --auth scram-sha-256 --ssl-self-signed --run &
# each data host (db1, then db2)
pg_autoctl create postgres --pgdata /var/lib/postgresql/15/callq --hostname "$(hostname -f)" \
  --auth scram-sha-256 --ssl-self-signed --dbname callq \
  --monitor 'postgres://autoctl_node@mon.example.internal:5432/pg_auto_failover?sslmode=require' \
  --run &
# once both are up, on any node: primary and secondary, and the primary's
# synchronous_standby_names names the standby
pg_autoctl show state
pg_autoctl show settings
# callq then connects with (README, "High availability"):
#   CALLQ_STORE='postgresql://callq@db1.example.internal:5432,db2.example.internal:5432/callq?target_session_attrs=read-write&connect_timeout=2'
