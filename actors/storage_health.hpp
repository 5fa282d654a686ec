// Whether the event log can be written, and how much room its file system
// has: set by the journal (a failed append) and by the runtime's disk
// watcher, read by every request (503 while the log cannot be written),
// /healthz and /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

namespace callq {

class storage_health {
 public:
  /// The log accepts appends (false from a failed append until the
  /// runtime has resumed writing and rebuilt its state).
  bool writable() const { return writable_.load(); }
  /// Free bytes of the data directory's file system (-1: not measured).
  int64_t free_bytes() const { return free_bytes_.load(); }
  /// Free space is under CALLQ_DISK_LOW.
  bool disk_low() const { return disk_low_.load(); }
  /// Free space is under CALLQ_DISK_RESERVE: new calls are refused.
  bool reserve_reached() const { return reserve_reached_.load(); }
  uint64_t write_failures() const { return failures_.load(); }
  /// The log takes no append with less free space than this, so that
  /// RocksDB itself never meets a full disk (it cannot resume in-process
  /// from a failed WAL write).
  int64_t floor_bytes() const { return floor_.load(); }
  void set_floor(int64_t bytes) { floor_ = bytes; }
  uint64_t recoveries() const { return recoveries_.load(); }

  /// Why the log cannot be written (empty while it can).
  std::string reason() const {
    std::lock_guard lock(mu_);
    return reason_;
  }

  /// An append failed: the log is not writable until recovered().
  void failed(const std::string& why) {
    std::lock_guard lock(mu_);
    reason_ = why;
    failures_ += 1;
    writable_ = false;
  }
  /// Writing resumed and state was rebuilt from the durable log.
  void recovered() {
    std::lock_guard lock(mu_);
    reason_.clear();
    recoveries_ += 1;
    writable_ = true;
  }
  /// A new measurement of free space, against the two thresholds.
  void measured(int64_t free, int64_t low, int64_t reserve) {
    free_bytes_ = free;
    disk_low_ = free < low;
    reserve_reached_ = free < reserve;
  }

 private:
  mutable std::mutex mu_;
  std::string reason_;
  std::atomic<bool> writable_{true}, disk_low_{false}, reserve_reached_{false};
  std::atomic<int64_t> free_bytes_{-1}, floor_{0};
  std::atomic<uint64_t> failures_{0}, recoveries_{0};
};

}  // namespace callq
