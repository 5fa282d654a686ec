// PostgreSQL for tests: a fresh database for each test in a throwaway
// cluster (scripts/pg-cluster.sh). Under CTest that is the test run's one
// shared cluster (the `pg_cluster` fixture; a test drops its databases at
// exit); a test binary run alone starts a cluster of its own on first use
// and stops it at exit. Nothing assumes a system-wide server.
#pragma once

#include <string>

namespace callq::testing {

/// The URL of a new, empty database in this process's test cluster
/// (started on first call), e.g. postgresql://callq@127.0.0.1:PORT/t3.
/// Empty, with `*why` set, when no cluster could be started.
std::string new_pg_database(std::string* why = nullptr);

/// The test cluster's maintenance URL (its `postgres` database); starts
/// the cluster when needed. Empty when none could be started.
std::string pg_cluster_url(std::string* why = nullptr);

/// Runs scripts/pg-cluster.sh with `args` (e.g. "start DIR"); its last
/// output line (a URL for start, standby, promote). Empty on failure, with
/// the output in `*why`.
std::string pg_cluster_script(const std::string& args, std::string* why = nullptr);

/// Runs scripts/pg-auto-failover.sh with `args` (e.g. "start DIR"), as
/// pg_cluster_script does: its last output line, empty on failure with the
/// output in `*why`.
std::string pg_auto_failover_script(const std::string& args, std::string* why = nullptr);

/// Runs `sql` (no result) on `url` with psql-free libpq; false on error.
bool pg_run(const std::string& url, const std::string& sql, std::string* why = nullptr);

}  // namespace callq::testing
