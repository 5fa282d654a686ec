// The journal actor owns every write to the event log. It runs on its own
// thread (it blocks on fsync) and group-commits: every append that arrives
// while a sync is running goes into the next single WriteBatch and sync.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <caf/all.hpp>

#include "storage/event_log.hpp"

namespace callq {

/// Figures the journal keeps for /metrics and benchmarks.
struct journal_stats {
  std::atomic<uint64_t> appends{0};   ///< append requests acknowledged
  std::atomic<uint64_t> events{0};    ///< events written
  std::atomic<uint64_t> syncs{0};     ///< write batches synced
  std::atomic<uint64_t> sync_us_total{0};
  /// Append latency histogram (request queued to acknowledged), microseconds.
  static constexpr uint64_t bucket_us[] = {250, 500, 1000, 2500, 5000, 10000, 25000, 100000};
  std::atomic<uint64_t> latency_buckets[9]{};
  std::atomic<uint64_t> latency_us_total{0};
};

/// Spawns the journal (detached). It answers
/// `(append_atom, journal_batch) -> uint64_t` with the sequence number of
/// the batch's last event, only after the batch is synced to disk. When
/// `sync` is false the WAL is not synced (benchmark reference only).
/// A write failure answers with an error; the log stays consistent.
caf::actor spawn_journal(caf::actor_system& sys, std::shared_ptr<storage::event_log> log,
                         std::shared_ptr<journal_stats> stats, bool sync = true);

}  // namespace callq
