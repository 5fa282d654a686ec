// Writes snapshots of the read model off the journal's thread. Every N
// events the journal hands over the read model's newest version (an
// immutable world: a pointer, no copy); this writer's own thread digests,
// encodes and stores it (actors/world/snapshot.hpp), so dispatch and appends
// never wait for a snapshot to be taken, encoded or synced.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "actors/world/world.hpp"
#include "storage/event_log.hpp"

namespace callq {

/// Figures for /metrics and benchmarks.
struct snapshot_stats {
  std::atomic<uint64_t> written{0};     ///< snapshots stored
  std::atomic<uint64_t> failed{0};      ///< snapshots that could not be stored
  std::atomic<uint64_t> last_seq{0};    ///< event the newest stored snapshot covers
  std::atomic<uint64_t> last_copy_us{0};   ///< handing the state over (the journal's pause)
  std::atomic<uint64_t> copies{0};         ///< states the journal handed over
  std::atomic<uint64_t> last_write_us{0};  ///< digest, encode and store, in the background
};

class snapshot_writer {
 public:
  /// Writes into `log`.
  snapshot_writer(std::shared_ptr<storage::event_log> log, std::shared_ptr<snapshot_stats> stats);
  /// Finishes the snapshot under way, then stops the thread.
  ~snapshot_writer();
  snapshot_writer(const snapshot_writer&) = delete;
  snapshot_writer& operator=(const snapshot_writer&) = delete;

  /// Hands over a state to write in the background (held until it is
  /// written). False (and dropped) while the previous one is still being
  /// written: the next interval takes a newer one.
  bool submit(std::shared_ptr<const world> state, int64_t ts_ms);

  /// Whether submit() would take a state now (nothing is being written or
  /// waiting). The journal asks before it copies the state, so a writer
  /// that is still busy costs the journal nothing per batch.
  bool idle();

  /// Writes `state` now, on the caller's thread, after any submitted one
  /// (clean shutdown).
  status write_now(const world& state, int64_t ts_ms);

 private:
  status write(const world& state, int64_t ts_ms);
  void run();

  std::shared_ptr<storage::event_log> log_;
  std::shared_ptr<snapshot_stats> stats_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::pair<std::shared_ptr<const world>, int64_t>> pending_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace callq
