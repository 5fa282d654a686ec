// The dispatcher actor: the live shell around the state logic (center).
// Every command from HTTP threads, timers and the gateway comes through its
// mailbox, so matching is atomic: no call goes to two agents and no agent
// gets two calls. It decides, hands the events to the journal and holds
// every answer and every REST call until the journal says the events are
// on disk.
#pragma once

#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/center.hpp"
#include "actors/clock.hpp"
#include "actors/gateway_actor.hpp"
#include "actors/journal_actor.hpp"
#include "storage/event_log.hpp"

namespace callq {

/// What the dispatcher needs besides the rules.
struct dispatcher_options {
  caf::actor journal;
  std::shared_ptr<clock_source> clock;
  gateway_options gateway;
  std::shared_ptr<callq::gateway_stats> gateway_figures;
  /// Real-time period of the timer tick.
  int64_t tick_ms = 100;
  /// Write a state digest to the log after this many events (and at stop).
  uint64_t digest_every_events = 50'000;
  /// Run a queue cleanup this often (virtual ms).
  int64_t cleanup_every_ms = 300'000;
};

/// Spawns the dispatcher around `logic` (already rebuilt from the log).
/// It answers `(command_atom, command_request) -> reply`.
caf::actor spawn_dispatcher(caf::actor_system& sys, std::unique_ptr<center> logic,
                            dispatcher_options opts);

}  // namespace callq
