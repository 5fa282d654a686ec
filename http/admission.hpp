// Admission of complete requests to the HTTP worker threads: which request
// a free thread serves next, and which requests are shed with a 503. Pure
// bookkeeping (no threads, no clock, no sockets); the front door holds it
// under its lock.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <vector>

#include "http/route_group.hpp"

namespace callq::http {

/// The admission rules. A group may start a request only while fewer than
/// `threads - reserve[g]` threads are busy in all and fewer than `cap[g]`
/// in that group; waiting requests start in priority order, first come
/// first served within a group.
struct admission_limits {
  int threads = 64;                                    ///< worker threads
  std::array<int, route_group_count> reserve{};        ///< threads kept free of the group
  std::array<int, route_group_count> cap{};            ///< busy threads the group may hold
  std::array<size_t, route_group_count> max_waiting{};  ///< queue length beyond which it sheds
  std::array<int64_t, route_group_count> max_wait_ms{};  ///< wait beyond which it sheds
};

/// The defaults for `threads` worker threads: Twilio may use them all;
/// agents never take the last 1/8; admin reads and pages never the last
/// 1/4; pages (and their streams) hold at most 1/4.
admission_limits default_admission_limits(int threads);

/// One request that waits, or has been shed.
struct admission_ticket {
  uint64_t job = 0;  ///< the caller's handle (a connection)
  route_group group = route_group::page;
};

class admission {
 public:
  explicit admission(admission_limits limits);

  /// Queues `job`. False (the request is to be shed) when its group's
  /// queue is full.
  bool offer(route_group g, uint64_t job, int64_t now_ms);

  /// The waiting request a free thread should serve now, marked busy;
  /// false when none may start.
  bool next(admission_ticket* out);

  /// A busy request of group `g` has finished.
  void finished(route_group g);

  /// Removes and returns the requests that have waited longer than their
  /// group allows.
  std::vector<admission_ticket> expire(int64_t now_ms);

  /// Removes and returns every waiting request (at shutdown).
  std::vector<admission_ticket> drain();

  size_t waiting(route_group g) const { return queue_[index(g)].size(); }
  /// How long the oldest request of group `g` has waited at `now_ms` (0
  /// when none waits).
  int64_t oldest_wait_ms(route_group g, int64_t now_ms) const {
    const auto& q = queue_[index(g)];
    return q.empty() ? 0 : now_ms - q.front().since_ms;
  }
  int busy(route_group g) const { return busy_[index(g)]; }
  int busy_total() const { return busy_total_; }
  const admission_limits& limits() const { return limits_; }

 private:
  struct entry {
    uint64_t job;
    int64_t since_ms;
  };
  static size_t index(route_group g) { return static_cast<size_t>(g); }
  bool may_start(size_t g) const;

  admission_limits limits_;
  std::array<std::deque<entry>, route_group_count> queue_;
  std::array<int, route_group_count> busy_{};
  int busy_total_ = 0;
};

}  // namespace callq::http
