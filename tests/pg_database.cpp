#include "tests/pg_database.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <vector>

#include <libpq-fe.h>
#include <unistd.h>

#ifndef CALLQ_SOURCE_DIR
#error "CALLQ_SOURCE_DIR must name the source tree (for scripts/pg-cluster.sh)"
#endif
#ifndef CALLQ_PG_SHARED_FILE
#error "CALLQ_PG_SHARED_FILE must name the file of the test run's shared cluster"
#endif

namespace callq::testing {

namespace {

struct cluster {
  std::mutex mu;
  bool tried = false;
  bool shared = false;  ///< the test run's cluster: not this process's to stop
  std::string dir, url, why;
  std::vector<std::string> databases;  ///< created in a shared cluster
};

cluster& the_cluster() {
  static cluster c;
  return c;
}

std::string run(const std::string& command, int* code) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) {
    *code = -1;
    return out;
  }
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr)
    out += buf;
  *code = pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
    out.pop_back();
  return out;
}

/// Drops the databases this process created in the shared cluster.
void drop_databases() {
  cluster& c = the_cluster();
  for (auto& name : c.databases)
    pg_run(c.url, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
}

/// The test run's shared cluster (CTest's fixture `pg_cluster` starts it
/// with `pg-cluster.sh shared-start CALLQ_PG_SHARED_FILE`), when it runs.
bool use_shared(cluster& c) {
  std::ifstream in(CALLQ_PG_SHARED_FILE);
  std::string dir;
  if (!std::getline(in, dir) || dir.empty())
    return false;
  int code = 0;
  std::string url = run(std::string(CALLQ_SOURCE_DIR) + "/scripts/pg-cluster.sh url " + dir + " 2>&1", &code);
  if (code != 0 || url.rfind("postgresql://", 0) != 0 || !pg_run(url, "SELECT 1"))
    return false;  // a file left by a run that stopped early: start our own
  c.dir = dir;
  c.url = url;
  c.shared = true;
  return true;
}

void stop_cluster() {
  cluster& c = the_cluster();
  if (c.dir.empty())
    return;
  int code = 0;
  run(std::string(CALLQ_SOURCE_DIR) + "/scripts/pg-cluster.sh stop " + c.dir + " 2>&1", &code);
  std::error_code ec;
  std::filesystem::remove_all(c.dir, ec);
}

}  // namespace

std::string pg_cluster_url(std::string* why) {
  cluster& c = the_cluster();
  std::lock_guard lock(c.mu);
  if (!c.tried && use_shared(c)) {
    c.tried = true;
    std::atexit(drop_databases);
  }
  if (!c.tried) {
    c.tried = true;
    std::string tmpl = (std::filesystem::temp_directory_path() / "callq-pg-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      c.why = "mkdtemp failed";
    } else {
      c.dir = tmpl;
      int code = 0;
      std::string out = run(std::string(CALLQ_SOURCE_DIR) + "/scripts/pg-cluster.sh start " + c.dir + " 2>&1", &code);
      if (code == 0 && out.rfind("postgresql://", 0) == 0) {
        c.url = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
        std::atexit(stop_cluster);
      } else {
        c.why = "scripts/pg-cluster.sh start failed: " + out;
        std::error_code ec;
        std::filesystem::remove_all(c.dir, ec);
        c.dir.clear();
      }
    }
  }
  if (why != nullptr)
    *why = c.why;
  return c.url;
}

namespace {

/// scripts/`script` with `args`: its last output line; empty on failure.
std::string script_line(const std::string& script, const std::string& args, std::string* why) {
  int code = 0;
  std::string out = run(std::string(CALLQ_SOURCE_DIR) + "/scripts/" + script + " " + args + " 2>&1", &code);
  if (code != 0) {
    if (why != nullptr)
      *why = out;
    return {};
  }
  auto nl = out.rfind('\n');
  return nl == std::string::npos ? out : out.substr(nl + 1);
}

}  // namespace

std::string pg_cluster_script(const std::string& args, std::string* why) {
  return script_line("pg-cluster.sh", args, why);
}

std::string pg_auto_failover_script(const std::string& args, std::string* why) {
  return script_line("pg-auto-failover.sh", args, why);
}

bool pg_run(const std::string& url, const std::string& sql, std::string* why) {
  PGconn* conn = PQconnectdb(url.c_str());
  bool ok = PQstatus(conn) == CONNECTION_OK;
  if (ok) {
    PGresult* r = PQexec(conn, sql.c_str());
    ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok && why != nullptr)
      *why = PQresultErrorMessage(r);
    PQclear(r);
  } else if (why != nullptr) {
    *why = PQerrorMessage(conn);
  }
  PQfinish(conn);
  return ok;
}

std::string new_pg_database(std::string* why) {
  static std::atomic<int> next{0};
  std::string base = pg_cluster_url(why);
  if (base.empty())
    return {};
  std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(++next);
  if (!pg_run(base, "CREATE DATABASE " + name, why))
    return {};
  if (cluster& c = the_cluster(); c.shared) {
    std::lock_guard lock(c.mu);
    c.databases.push_back(name);
  }
  return base.substr(0, base.rfind('/') + 1) + name;
}

}  // namespace callq::testing
