// The timer service: time is data. Entities tell it when they next need a
// tick (their deadline, computed from their state; one per entity, which a
// new one replaces); on each beat it reads
// the injected clock and sends `tick` to every entity that is due, which
// decides the timer's events. It also runs the periodic work: the
// backstop sweep (QUEUE_POLLING_INTERVAL), the queue cleanup (every 5
// minutes) and the state digest (every N events). CAF's delayed_send only
// paces the beat in real time; it is never the clock.
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/entity_env.hpp"
#include "actors/journal/journal_actor.hpp"
#include "actors/load_gauge.hpp"

namespace callq {

struct timer_options {
  /// Real-time period of the beat; 0: beats only on request (virtual time).
  int64_t beat_ms = 100;
  int64_t cleanup_every_ms = 300'000;
  /// Record a state digest after this many events (and at stop).
  uint64_t digest_every_events = 50'000;
  /// Make each digest on a detached actor of its own, not on a scheduler
  /// thread: its text goes over every call and agent (about 20 ms per
  /// 11,000 entities, 200 ms per 100,000). Off in a deterministic
  /// (virtual-time) run, which makes it in place so that the run stays the
  /// same every time.
  bool digest_detached = true;
  std::shared_ptr<journal_stats> journal_figures;
  /// Told how late each beat runs (admission of new calls); may be null.
  std::shared_ptr<load_gauge> load;
};

/// Spawns the timer service. It takes `(schedule_atom, actor, due_ms)`
/// from agents and `(schedule_atom, call_sid, due_ms)` from calls: the
/// entity's one deadline, replacing the one before (0 cancels it), so an
/// entity is ticked only for the deadline it has now (a passivated call
/// is woken for it). It takes `(passivate_atom, call_sid, at_ms)`: when to
/// ask the call's running actor whether it has been idle long enough to
/// be passivated (call_actor.hpp; a call passivated or finished meanwhile
/// is not asked); `(schedule_atom, call_sid, due_ms, at_ms)` is both. It answers
/// `(pending_atom) -> int64_t`, the number of deadlines held, and, each once
/// every entity it asked has answered:
/// - `(tick_atom) -> reply`: ticks every due entity (so a virtual-time step
///   is decided before it returns);
/// - `(cleanup_atom) -> reply`: the queue cleanup (orphaned waiting calls
///   are abandoned; finished calls kept for late retries beyond the
///   retention leave memory);
/// - `(expire_atom) -> reply`: the heartbeat cleanup;
/// - `(recover_atom, version, open_calls) -> reply`: after a restart,
///   records `system.started` and has every agent, then each of
///   `open_calls` (those open_at_restart()), resolve what was open;
/// - `(digest_atom) -> std::string`: records a digest of the read model.
caf::actor spawn_timers(caf::actor_system& sys, std::shared_ptr<entity_env> env,
                        timer_options opts);

}  // namespace callq
