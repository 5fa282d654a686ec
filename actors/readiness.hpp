// The readiness score and the estimated wait: the two formulas operators
// see, in one place.
#pragma once

#include <cstdint>

#include "actors/model.hpp"
#include "actors/policy.hpp"

namespace callq {

/// Readiness 0-100 of `a` at `now_ms`:
///
///   0 when offline, stale (no fresh heartbeat) or paused; otherwise
///   100
///   - up to 40 for heartbeat age: nothing while the last heartbeat is at
///     most one interval old, then linearly to 40 at the timeout
///   - 50 when the softphone is not registered
///   - 20 per missed offer in a row (at most 60)
///   - 10 when idle for more than 30 minutes (maybe away from the desk)
///   clamped to 0..100.
///
/// Agents below policy::readiness_threshold are not offered calls.
int64_t readiness_score(const agent& a, const policy& p, int64_t now_ms);

/// Estimated wait in seconds for the caller at 1-based `position` when
/// `staffed` agents serve the queue and a call takes `avg_handle_ms`:
/// ceil(position / max(1, staffed)) rounds of one average handle time.
int64_t estimated_wait_seconds(int64_t position, int64_t staffed,
                               int64_t avg_handle_ms);

}  // namespace callq
