// Rebuilding state from the log: at start-up (the server) and offline
// (`callq replay`). It feeds each event to center::apply, the same code the
// live server runs, so the two cannot drift.
#pragma once

#include <cstdint>
#include <functional>

#include "actors/center.hpp"
#include "events/status.hpp"
#include "storage/event_log.hpp"

namespace callq::replay {

/// Where a rebuild stops: after sequence `until_seq` and/or the last event
/// at or before `until_ms` (0 means no limit).
struct rebuild_limit {
  uint64_t until_seq = 0;
  int64_t until_ms = 0;
};

/// What a rebuild did.
struct rebuild_report {
  uint64_t events = 0;    ///< events applied
  uint64_t last_seq = 0;  ///< sequence of the last applied event
  int64_t last_ms = 0;    ///< its timestamp
};

/// Called before each event is applied; an error stops the rebuild.
using before_apply_fn = std::function<status(const events::envelope&, const center&)>;

/// Applies the log's events, oldest first, to `state` up to `limit`.
status rebuild(const storage::event_log& log, center& state, const rebuild_limit& limit,
               rebuild_report* report, const before_apply_fn& before = {});

}  // namespace callq::replay
