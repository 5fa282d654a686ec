// What the dispatcher's reservations came to (README, "Offers in
// parallel"). Plain atomics: the dispatcher counts, /metrics and tests
// read.
#pragma once

#include <atomic>
#include <cstdint>

namespace callq {

/// Counters of the reservation protocol since start-up.
struct dispatch_stats {
  /// Matches that became reservations (one per offer, however many legs).
  std::atomic<uint64_t> reservations{0};
  /// Legs an agent refused (no longer free when asked) or left unanswered:
  /// the match was held, yet the log says nothing of it.
  std::atomic<uint64_t> legs_refused{0};
  /// Reservations whose call could not take the offer (gone or silent);
  /// their agents were released.
  std::atomic<uint64_t> calls_refused{0};
};

}  // namespace callq
