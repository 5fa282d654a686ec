// Rebuilding state from the log: at start-up (the server) and offline
// (`callq replay`). It feeds each event to world::apply, which applies it
// with the same entity code the live actors run, so the two cannot drift.
#pragma once

#include <cstdint>
#include <functional>

#include "events/status.hpp"
#include "actors/world/world.hpp"
#include "storage/event_log.hpp"

namespace callq {

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

/// Called after each event is applied; an error stops the rebuild.
using after_apply_fn = std::function<status(const events::envelope&, const world&)>;

/// Applies the log's events after `state.last_seq()` (all of them for a
/// new world; the tail for one loaded from a snapshot), oldest first, to
/// `state` up to `limit`.
status rebuild(const storage::event_log& log, world& state, const rebuild_limit& limit,
               rebuild_report* report, const after_apply_fn& after = {});

}  // namespace callq
