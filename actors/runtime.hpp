// The running contact centre: the actor system, the journal, the
// dispatcher, the timer service, the Twilio gateway and one actor per call
// and per agent, started from the log and stopped cleanly. HTTP threads
// talk to it through ask(), which finds the right mailbox in the registry.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/clock.hpp"
#include "actors/commands.hpp"
#include "actors/effects.hpp"
#include "actors/gateway/gateway_options.hpp"
#include "actors/journal/journal_options.hpp"
#include "actors/dispatcher/dispatch_stats.hpp"
#include "actors/load_gauge.hpp"
#include "actors/policy.hpp"
#include "actors/world/read_model.hpp"
#include "actors/replies.hpp"
#include "actors/storage_health.hpp"
#include "events/status.hpp"
#include "storage/event_log.hpp"

namespace callq {

/// Free space on the data directory's file system (README, "A full disk").
struct disk_options {
  /// Below this: a warning (log line, metric).
  int64_t low_bytes = 1LL << 30;
  /// Below this: new incoming calls are refused (503) so that calls
  /// already waiting can still be connected and completed.
  int64_t reserve_bytes = 64LL << 20;
  /// Below this the log takes no append at all (README, "A full disk").
  int64_t floor_bytes = 8LL << 20;
};

/// Everything needed to start.
struct runtime_options {
  std::string data_dir = "./callq-data";
  /// Where the event log lives: empty, the RocksDB log in `data_dir`; a
  /// postgresql:// URL, that PostgreSQL log (CALLQ_STORE).
  std::string store;
  /// Start as a follower of a shared log (README, "High availability"):
  /// state is kept warm from the log, requests that change anything are
  /// refused (503), until lead() promotes this runtime.
  bool follower = false;
  /// Called (on the role thread) each time this runtime starts or stops
  /// leading a shared log; `serve` prints it on stdout.
  std::function<void(bool leading)> on_role;
  /// Called (on the disk watcher's thread) once, when every actor was
  /// stopped and rebuilding them from the log failed: this runtime
  /// dispatches nothing any more and cannot mend that in-process. `serve`
  /// then stops and exits non-zero for its supervisor (systemd) to restart
  /// it; until then /healthz answers 503.
  std::function<void(const std::string& why)> on_fatal;
  policy rules;
  gateway_options gateway;
  /// Time moves only through advance_clock() (end-to-end tests).
  bool virtual_clock = false;
  std::string version = "0.1.0";
  /// A snapshot of the state every this many events (0: only at stop),
  /// so a restart replays at most about this many.
  uint64_t snapshot_every_events = 100'000;
  /// Snapshots kept in the log.
  size_t keep_snapshots = 3;
  /// In real time, a digest of the state is recorded after this many
  /// events (and at every stop), for `callq replay --verify`.
  uint64_t digest_every_events = 50'000;
  disk_options disk;
  /// How often free space is measured and, after a failed append, writing
  /// is retried (0: only when check_storage() is called, for tests).
  int64_t disk_check_ms = 1000;
  /// Tests: the RocksDB environment of the log (fault injection).
  rocksdb::Env* storage_env = nullptr;
  /// How long an idempotency key answers retries (IDEMPOTENCY_TTL).
  int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;
  int64_t tick_ms = 100;  ///< how often due timers are looked at
  /// A waiting call's actor idle this long is passivated: the call is kept
  /// as its state alone until a message wakes it (CALLQ_PASSIVATE_AFTER;
  /// 0: never). See call_actor.hpp.
  int64_t passivate_after_ms = 2000;
  /// How long a round of the periodic queue cleanup takes (real time
  /// only): every call actor is asked once per round, a slice per beat.
  int64_t cleanup_every_ms = 300'000;
  /// New calls are refused (503) while the actors run this far behind,
  /// measured by how late the timer service's beat runs, smoothed, until
  /// it falls below 40 % of it again (CALLQ_OVERLOAD_LAG; 0: never).
  int64_t overload_lag_ms = 50;
  /// CAF's scheduler: worker threads, work stealing (polls; else one
  /// shared queue), messages an actor handles before it yields (0: CAF's
  /// default, no limit).
  int scheduler_threads = 2;
  bool scheduler_stealing = false;
  size_t scheduler_max_throughput = 0;
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
  uint64_t snapshot_seq = 0;          ///< the snapshot started from (0: none)
  std::vector<std::string> warnings;  ///< snapshots skipped, a log shorter than its head
  uint64_t events_replayed = 0;
  double replay_seconds = 0;
  uint64_t calls = 0, agents = 0;  ///< actors spawned from the log
  double open_seconds = 0;   ///< opening the log, before the rebuild
  double spawn_seconds = 0;  ///< spawning the actors and recovering, after it
};

/// Live actor counts for /metrics.
struct actor_counts {
  size_t calls = 0, agents = 0;
  size_t finished_calls = 0;  ///< remembered for late retries (no actor)
  size_t passive_calls = 0;   ///< of `calls`, passivated (their state alone, no actor)
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
  /// The rules this runtime was started with.
  const policy& rules() const { return opts_.rules; }
  /// Live call and agent actors.
  actor_counts actors() const;
  /// Tests: the digest text of every live entity actor's own state,
  /// asked of the actors themselves ("call <sid>" or "agent <id>" ->
  /// text; an agent holding a reservation adds "|reserved").
  std::map<std::string, std::string> entity_digests();
  /// Tests: how many deadlines the timer service holds (one per entity
  /// that has one); -1 when it cannot say.
  int64_t pending_timers();

  /// Measures free space and, when the log could not be written, tries to
  /// resume writing; on success every actor is rebuilt from the durable
  /// log (as at a restart, in-process). The disk watcher calls it every
  /// disk_check_ms; tests call it directly.
  status check_storage();
  /// Tests: kills one of the long-lived actors ("journal", "dispatcher",
  /// "timers", "gateway") as an exception escaping its handler would; the
  /// supervisor marks the log not writable at once and the next
  /// check_storage() rebuilds every actor from the durable log.
  /// `fail_rebuild`: the rebuild that follows fails as well (as a log
  /// that cannot be read would), so the runtime goes down().
  status crash_for_test(const std::string& which, bool fail_rebuild = false);

  /// Rebuilding the actors failed: nothing is dispatched until a restart
  /// (on_fatal was called). Empty while the runtime works.
  std::string down() const;

  /// Whether the log can be written and how much room it has.
  const storage_health& storage() const { return *health_; }

  /// The log, for read-only use (timelines, export).
  const storage::event_log& log() const { return *log_; }

  const journal_stats& journal_figures() const { return *journal_stats_; }
  /// How far behind the actors run; new calls are refused while overloaded.
  load_gauge& load() { return *load_; }
  const load_gauge& load() const { return *load_; }
  const snapshot_stats& snapshot_figures() const { return *snapshot_stats_; }
  const gateway_stats& gateway_figures() const { return *gateway_stats_; }
  /// The dispatcher's reservations: started, legs refused, calls refused.
  const dispatch_stats& dispatch_figures() const { return *dispatch_stats_; }

  /// Records a final digest, stops the actors and closes the log. Safe to
  /// call twice.
  void stop();

  // ---- Leading and following a shared log (README, "High availability")

  /// This runtime decides: its actors run and its log appends (always,
  /// unless it was started as a follower and does not lead now).
  bool is_leader() const { return leading_.load(); }
  /// Asks a follower to lead with leadership `epoch`: it fences its log
  /// with it, catches up to the last durable event, spawns every actor
  /// from its warm state and records the restart (open offers resolved,
  /// timers rebuilt), then answers requests. Returns at once; the role
  /// thread does it.
  void lead(int64_t epoch);
  /// Asks a leader to stop leading (its leadership is over): its actors
  /// stop at once, nothing more is appended or answered by them, and it
  /// follows the log again. Returns at once.
  void step_down(const std::string& why);

 private:
  runtime() = default;
  /// Rebuilds state (newest snapshot, then the tail) and spawns the
  /// actors. Used at start and after the log became writable again.
  status boot(startup_report* report);
  /// The newest valid snapshot, then the log's tail, into `*out`.
  status load_world(world* out, startup_report* report);
  /// Spawns every actor from `w` (which becomes the read model), builds
  /// the dispatcher's index and records the restart.
  status spawn(world w, startup_report rep, startup_report* report);
  /// Follower: applies the events appended since the read model's last.
  status follow();
  /// The role thread: follows, and promotes or steps down when asked.
  void run_role();
  /// Both with life_mu_ held exclusively.
  void promote_locked(int64_t epoch);
  void demote_locked(const std::string& why);
  /// Stops every actor (impl_ is gone afterwards).
  void teardown();
  void measure_disk();
  void watch_disk();
  /// The supervisor saw `what` stop unexpectedly: writes are refused and
  /// the watcher rebuilds every actor from the log at once. Called on an
  /// actor's thread: it only marks and wakes.
  void on_crash(const std::string& what, const std::string& why);

  struct impl;
  runtime_options opts_;
  /// Requests hold it shared; rebuilding the actors holds it exclusively.
  mutable std::shared_mutex life_mu_;
  std::shared_ptr<storage_health> health_;
  std::thread watcher_;
  mutable std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool watch_stop_ = false;
  bool crashed_ = false;  ///< a supervised actor stopped; the watcher rebuilds
  /// Counts supervised actors that stopped; requests waiting on the actors
  /// give up when it moves (runtime_detail::request_unless_crashed).
  std::atomic<uint64_t> crashes_{0};
  std::atomic<bool> fail_next_boot_{false};  ///< crash_for_test(..., true)
  std::string down_;             ///< why down(); under watch_mu_
  std::unique_ptr<impl> impl_;
  std::shared_ptr<storage::event_log> log_;
  std::shared_ptr<read_model> reads_;
  std::shared_ptr<clock_source> clock_;
  std::shared_ptr<journal_stats> journal_stats_;
  std::shared_ptr<load_gauge> load_;
  std::shared_ptr<snapshot_stats> snapshot_stats_;
  std::shared_ptr<snapshot_writer> snapshots_;
  std::shared_ptr<gateway_stats> gateway_stats_;
  std::shared_ptr<dispatch_stats> dispatch_stats_ = std::make_shared<dispatch_stats>();
  std::shared_ptr<manual_clock_source> manual_clock_;
  bool stopped_ = false;
  std::atomic<bool> leading_{true};
  std::thread role_thread_;  ///< shared logs only
  std::mutex role_mu_;
  std::condition_variable role_cv_;
  int64_t want_epoch_ = 0;  ///< lead() asked, not yet done
  bool want_down_ = false;  ///< step_down() asked, not yet done
  std::string down_why_;
  bool role_stop_ = false;
};

}  // namespace callq
