// What the journal counts and how it runs: plain data, no CAF, for the
// runtime's public header and /metrics.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "actors/histogram_bucket.hpp"
#include "actors/journal/snapshot_writer.hpp"
#include "actors/world/read_model.hpp"
#include "actors/storage_health.hpp"

namespace callq {

/// Figures the journal keeps for /metrics and benchmarks.
struct journal_stats {
  std::atomic<uint64_t> appends{0};   ///< append requests acknowledged
  std::atomic<uint64_t> conflicts{0};  ///< appends refused: a stream was not at the expected version
  /// Writes the log refused as a conflict only its store could see
  /// (PostgreSQL): their appends were checked again and resubmitted.
  std::atomic<uint64_t> conflict_retries{0};
  std::atomic<uint64_t> events{0};    ///< events written
  std::atomic<uint64_t> syncs{0};     ///< write batches synced
  std::atomic<uint64_t> sync_us_total{0};  ///< batches' time from submitted to durable
  /// Append latency histogram (request queued to acknowledged), microseconds.
  static constexpr uint64_t bucket_us[] = {250, 500, 1000, 2500, 5000, 10000, 25000, 100000};
  /// The bucket over bucket_us.
  static size_t bucket_of(uint64_t us) { return histogram_bucket(bucket_us, us); }
  std::atomic<uint64_t> latency_buckets[9]{};
  /// Write (WAL sync) time histogram, submitted to durable, same buckets.
  std::atomic<uint64_t> sync_buckets[9]{};

  /// The upper bound (us) of the bucket holding the p-th percentile of
  /// `buckets` (0 when empty; UINT64_MAX beyond the last bound).
  static uint64_t percentile_bound(const std::atomic<uint64_t> (&buckets)[9], double p) {
    uint64_t total = 0;
    for (auto& b : buckets)
      total += b.load();
    if (total == 0)
      return 0;
    uint64_t seen = 0;
    for (size_t i = 0; i < 9; ++i) {
      seen += buckets[i].load();
      if (static_cast<double>(seen) >= p / 100.0 * static_cast<double>(total))
        return i < 8 ? bucket_us[i] : UINT64_MAX;
    }
    return UINT64_MAX;
  }
  std::atomic<uint64_t> latency_us_total{0};
};

/// How the journal runs.
struct journal_options {
  /// Sync the WAL before acknowledging (false: benchmark reference only).
  bool sync = true;
  /// Its own thread (it blocks on fsync); false only under the test
  /// scheduler, where every actor must be scheduled.
  bool detached = true;
  /// Let appends that keep arriving join a batch smaller than the last one
  /// (at most 200 us); false under the test scheduler, where nothing
  /// arrives while the journal runs.
  bool wait_for_more = true;
  /// Fed with every batch once durable, before it is acknowledged.
  std::shared_ptr<read_model> reads;
  /// Every `snapshot_every_events` events the journal copies the read
  /// model and hands the copy to `snapshots` (null or 0: never).
  std::shared_ptr<snapshot_writer> snapshots;
  uint64_t snapshot_every_events = 100'000;
  std::shared_ptr<snapshot_stats> snapshot_figures;
  /// Told of a failed append; while it says the log is not writable,
  /// every append (and barrier) is answered with an error at once.
  std::shared_ptr<storage_health> health;
};

}  // namespace callq
