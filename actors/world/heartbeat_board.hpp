// The agents' last heartbeat times, for the status view: volatile facts
// the log does not hold (a heartbeat writes no event unless it changes
// something), so they live beside the read model's versions, not in them.
// Each agent's actor writes its own cell without a lock; the board's lock
// is taken only to find or add a cell and to copy the times out.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace callq {

class heartbeat_board {
 public:
  /// One agent's last heartbeat, milliseconds since the epoch (0: none).
  using cell = std::shared_ptr<std::atomic<int64_t>>;

  /// The cell of `agent_id`, added on first use. Its holder stores into
  /// it without the board's lock.
  cell cell_of(const std::string& agent_id) {
    {
      std::shared_lock lock(mu_);
      if (auto i = cells_.find(agent_id); i != cells_.end())
        return i->second;
    }
    std::lock_guard lock(mu_);
    auto& c = cells_[agent_id];
    if (!c)
      c = std::make_shared<std::atomic<int64_t>>(0);
    return c;
  }

  /// Every agent's last heartbeat (agents never heard from left out).
  std::unordered_map<std::string, int64_t> times() const {
    std::unordered_map<std::string, int64_t> out;
    std::shared_lock lock(mu_);
    out.reserve(cells_.size());
    for (auto& [id, c] : cells_)
      if (int64_t at = c->load(std::memory_order_relaxed); at > 0)
        out.emplace(id, at);
    return out;
  }

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, cell> cells_;
};

}  // namespace callq
