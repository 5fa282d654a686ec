// What every entity actor shares: the rules, the injected clock, the
// registry, the read model, the id counters and the long-lived actors.
#pragma once

#include <memory>

#include <caf/actor.hpp>

#include "actors/clock.hpp"
#include "actors/dispatcher/dispatch_stats.hpp"
#include "actors/ids.hpp"
#include "actors/load_gauge.hpp"
#include "actors/policy.hpp"
#include "actors/world/read_model.hpp"
#include "actors/registry.hpp"

namespace callq {

struct entity_env {
  policy rules;
  std::shared_ptr<clock_source> clock;
  std::shared_ptr<registry> reg;
  std::shared_ptr<read_model> reads;
  std::shared_ptr<id_source> ids;
  /// How far behind callq runs (null in tests that do not measure it).
  std::shared_ptr<load_gauge> load;
  /// The reservations' counters (never null once the runtime runs).
  std::shared_ptr<dispatch_stats> dispatch = std::make_shared<dispatch_stats>();
  /// A waiting call whose actor has had nothing to do for this long is
  /// passivated (call_actor.hpp); 0: never.
  int64_t passivate_after_ms = 0;
  caf::actor journal;     ///< the one writer to the log
  caf::actor gateway;     ///< Twilio REST
  caf::actor dispatcher;  ///< the matching index
  caf::actor timers;      ///< sends `tick` when an entity's deadline is due
};

}  // namespace callq
