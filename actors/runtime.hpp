// The running contact centre: the actor system, the journal, the
// dispatcher, the timer service, the Twilio gateway and one actor per call
// and per agent, started from the log and stopped cleanly. HTTP threads
// talk to it through ask(), which finds the right mailbox in the registry.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "actors/clock.hpp"
#include "actors/commands.hpp"
#include "actors/effects.hpp"
#include "actors/gateway/gateway_actor.hpp"
#include "actors/journal/journal_actor.hpp"
#include "actors/policy.hpp"
#include "actors/read_model.hpp"
#include "actors/replies.hpp"
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
  /// The clock to use (tests); when unset, the wall clock, or a virtual
  /// one starting now with `virtual_clock`.
  std::shared_ptr<manual_clock_source> clock;
  /// Tests: every actor runs on CAF's test scheduler, one message at a
  /// time, driven by ask() in an order drawn from `seed` (0: first come,
  /// first served); the journal does not sync, and REST jobs are recorded
  /// in `recorded_jobs` instead of being sent.
  bool deterministic = false;
  uint32_t seed = 0;
  std::shared_ptr<std::vector<rest_job>> recorded_jobs;
  /// When set, REST jobs are handed to this (on an actor's thread) instead
  /// of being sent to Twilio (benchmarks).
  std::function<void(const rest_job&)> rest_sink;
};

/// What start-up did, for the log line.
struct startup_report {
  uint64_t events_replayed = 0;
  double replay_seconds = 0;
  uint64_t calls = 0, agents = 0;  ///< actors spawned from the log
};

/// Live actor counts for /metrics.
struct actor_counts {
  size_t calls = 0, agents = 0;
};

class runtime {
 public:
  /// Opens the log, rebuilds every entity from it (one pass), spawns the
  /// actors from those states, builds the dispatcher's index and records
  /// the restart (open offers are resolved as failed).
  static status start(const runtime_options& opts, std::unique_ptr<runtime>* out,
                      startup_report* report = nullptr);

  ~runtime();

  /// Runs a command in the actor it belongs to and waits for its answer,
  /// which comes only once everything it caused is decided and durable.
  /// For any thread but an actor's. `idempotency_key` (may be empty) makes
  /// a repeated request get the first answer without new events.
  reply ask(cmd::command c, const std::string& idempotency_key = {});

  /// Virtual clock only: moves time on and fires due timers.
  status advance_clock(int64_t ms);

  /// The read model (status, metrics, positions).
  const read_model& reads() const { return *reads_; }
  /// The time now, from the injected clock.
  int64_t now_ms() const { return clock_->now_ms(); }
  /// Live call and agent actors.
  actor_counts actors() const;
  /// Tests: the digest text of every live entity actor's own state,
  /// asked of the actors themselves ("call <sid>" or "agent <id>" ->
  /// text; an agent holding a reservation adds "|reserved").
  std::map<std::string, std::string> entity_digests();

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
  std::shared_ptr<read_model> reads_;
  std::shared_ptr<clock_source> clock_;
  std::shared_ptr<journal_stats> journal_stats_;
  std::shared_ptr<gateway_stats> gateway_stats_;
  std::shared_ptr<manual_clock_source> manual_clock_;
  bool stopped_ = false;
};

}  // namespace callq
