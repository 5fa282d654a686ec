// The offline commands: `callq replay`, `callq export`, `callq verify` and
// `callq snapshot`.
// Each opens the log read-only (a server may be writing to it), writes its
// result to `out`, messages to `err`, and returns the process exit code:
// 0 success, 1 a check failed, 2 bad input (missing data dir, bad format,
// bad time).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "actors/policy.hpp"

namespace callq::replay {

// Every command reads the log of `data_dir` (RocksDB) or, when `store` is
// a postgresql:// URL (--store, else CALLQ_STORE), that PostgreSQL log.

struct replay_args {
  std::string data_dir;
  std::string store;
  std::string call_sid;   ///< timeline of one call
  std::string agent_id;   ///< timeline of one agent
  std::string until;      ///< ISO time or sequence number
  bool verify = false;
  bool json = false;
  policy rules;           ///< the rules the state was built with
};
int run_replay(const replay_args& a, std::ostream& out, std::ostream& err);

struct export_args {
  std::string data_dir, store, format, from, to, output;  ///< output empty: stdout
  bool redact_phone = false;
  bool progress = false;  ///< print progress to err
};
int run_export(const export_args& a, std::ostream& out, std::ostream& err);

/// `callq report`: queue and agent figures (README, "Reports").
struct report_args {
  std::string data_dir, store, from, to, queue;
  std::string interval = "1h";
  std::string format = "table";  ///< table, csv or json
  std::string split;             ///< "" or "features"
  bool progress = false;         ///< print progress to err
};
int run_report(const report_args& a, std::ostream& out, std::ostream& err);

/// `callq simulate` (README, "What-if and staffing"): the period's callers
/// replayed under the log's own agents or `staffing` (a file), and the
/// log's queue configurations or `queues` (a file: the JSON of GET
/// /api/queues); actual beside simulated, per queue and interval.
struct simulate_args {
  std::string data_dir, store, from, to;
  std::string staffing;  ///< file; empty: the log's agents and their hours
  std::string queues;    ///< file; empty: the log's configurations
  std::string interval = "1h";
  std::string format = "table";  ///< table, csv or json
  uint64_t seed = 1;
  policy rules;  ///< the rules the server runs with
};
int run_simulate(const simulate_args& a, std::ostream& out, std::ostream& err);

/// `callq staffing`: agents needed per queue and interval for `target`
/// ("0.8/20": 80 % answered within 20 s) by Erlang A, and the simulated
/// service level with that many.
struct staffing_args {
  std::string data_dir, store, from, to;
  std::string target = "0.8/20";
  std::string interval = "1h";
  std::string format = "table";
  uint64_t seed = 1;
  policy rules;
};
int run_staffing(const staffing_args& a, std::ostream& out, std::ostream& err);

struct verify_args {
  std::string data_dir;
  std::string store = {};
};
int run_verify(const verify_args& a, std::ostream& out, std::ostream& err);

struct snapshot_args {
  std::string data_dir;
  std::string store;
  policy rules;
};
/// Writes a snapshot of the state at the log's end. Opens the log for
/// writing, so it fails (exit 1, saying why) while a server runs on it.
int run_snapshot(const snapshot_args& a, std::ostream& out, std::ostream& err);

}  // namespace callq::replay
