// The read model: a world (actors/world/world.hpp) fed with every event once it
// is durable, on the journal's thread before the append is acknowledged.
// Status, /metrics, positions and wait estimates are read from it under a
// lock, never by a command through the matching actor, and what it shows
// is always on disk.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "actors/world/world.hpp"

namespace callq {

class read_model {
 public:
  explicit read_model(world w) : world_(std::move(w)) {}

  /// Applies durable events; the first has sequence number `first_seq`.
  /// Then holds each of `states` (call actors' states after these
  /// events) instead of its own copy (world::adopt()). Returns how long
  /// it waited for readers to let go of the world, microseconds.
  uint64_t apply(uint64_t first_seq, const std::vector<events::event>& evs,
                 const std::vector<shared_call_state>& states = {}) {
    auto asked = std::chrono::steady_clock::now();
    std::lock_guard lock(mu_);
    auto waited = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - asked);
    uint64_t seq = first_seq;
    for (auto& e : evs)
      world_.apply(seq++, e);
    for (auto& s : states)
      world_.adopt(s);
    return static_cast<uint64_t>(waited.count());
  }

  /// Replaces the world (state rebuilt from the durable log in-process).
  void reset(world w) {
    std::lock_guard lock(mu_);
    world_ = std::move(w);
  }

  /// Runs `f` with the world, under the lock (shared: readers do not wait
  /// for each other, only for the journal's apply): keep it short.
  template <class F> auto read(F&& f) const {
    std::shared_lock lock(mu_);
    return f(static_cast<const world&>(world_));
  }

  /// The heartbeat time of an agent (volatile, for the status view).
  void set_last_heartbeat(const std::string& agent_id, int64_t at_ms) {
    std::lock_guard lock(mu_);
    world_.set_last_heartbeat(agent_id, at_ms);
  }

 private:
  mutable std::shared_mutex mu_;
  world world_;
};

}  // namespace callq
