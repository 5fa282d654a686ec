// The running contact centre: the actor system, the journal, the
// dispatcher (with its gateway) and the event log, started from the log's
// state and stopped cleanly. HTTP threads talk to it through ask().
#pragma once

#include <memory>
#include <string>

#include "actors/center.hpp"
#include "actors/clock.hpp"
#include "actors/gateway_actor.hpp"
#include "actors/journal_actor.hpp"
#include "events/status.hpp"
#include "storage/event_log.hpp"

namespace callq {

/// Everything needed to start.
struct runtime_options {
  std::string data_dir = "./callq-data";
  policy rules;
  gateway_options gateway;
  /// Time moves only through advance_clock() (end-to-end tests).
  bool virtual_clock = false;
  std::string version = "0.1.0";
  int64_t tick_ms = 100;  ///< how often due timers are looked at
  int scheduler_threads = 2;
};

/// What start-up did, for the log line.
struct startup_report {
  uint64_t events_replayed = 0;
  double replay_seconds = 0;
};

class runtime {
 public:
  /// Opens the log, rebuilds state from it, starts the actors and records
  /// the restart (open offers are resolved as failed).
  static status start(const runtime_options& opts, std::unique_ptr<runtime>* out,
                      startup_report* report = nullptr);

  ~runtime();

  /// Runs a command through the dispatcher and waits for its answer, which
  /// comes only once its events are durable. For any thread but an actor's.
  /// `idempotency_key` (may be empty) makes a repeated request get the
  /// first answer without new events.
  reply ask(cmd::command c, const std::string& idempotency_key = {});

  /// Virtual clock only: moves time on and fires due timers.
  status advance_clock(int64_t ms);

  /// The log, for read-only use (timelines, export).
  const storage::event_log& log() const { return *log_; }

  const journal_stats& journal_figures() const { return *journal_stats_; }
  const gateway_stats& gateway_figures() const { return *gateway_stats_; }

  /// Records a final digest, stops the actors and closes the log. Safe to
  /// call twice.
  void stop();

 private:
  runtime() = default;
  struct impl;
  std::unique_ptr<impl> impl_;
  std::shared_ptr<storage::event_log> log_;
  std::shared_ptr<journal_stats> journal_stats_;
  std::shared_ptr<gateway_stats> gateway_stats_;
  std::shared_ptr<manual_clock_source> manual_clock_;
  bool stopped_ = false;
};

}  // namespace callq
