// A fault-injecting storage environment for tests (LevelDB's Env is the
// model): a RocksDB FileSystem that forwards to the real one until told
// the disk is full, then fails every write and sync with NoSpace, as a
// full file system does, until told space is back.
//
// It also simulates a power loss, as RocksDB's FaultInjectionTestEnv does:
// it tracks how much of every file it wrote has been synced; power_off()
// (at once, or at the Nth write from now) makes every later write fail,
// and lose_unsynced() then cuts every file back to what was synced, which
// is what a machine that lost power keeps. ignore_syncs() makes syncs
// succeed without syncing, as a log run with syncing off would.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace rocksdb {
class Env;
}

namespace callq::storage {

class fault_env {
 public:
  fault_env();
  ~fault_env();
  fault_env(const fault_env&) = delete;
  fault_env& operator=(const fault_env&) = delete;

  /// The environment to pass in log_options::rocksdb_env.
  rocksdb::Env* env();

  /// From now on every write, sync and new file fails with NoSpace.
  void fill_disk() { full_->store(true); }
  /// Space is back: writes succeed again.
  void free_disk() { full_->store(false); }
  /// Writes refused since construction.
  uint64_t refused() const { return refused_->load(); }

  /// The power goes off now: every later write, sync and new file fails
  /// (IOError), as nothing more reaches the disk.
  void power_off();
  /// The power goes off at the `n`th file write (an append or a sync) from
  /// now, which already fails: a moment inside whatever the log is doing.
  void power_off_after_writes(uint64_t n);
  /// Whether the power is off.
  bool powered_off() const;
  /// After power_off() and once nothing uses the files any more: cuts
  /// every file written through this environment back to its synced
  /// length. Returns the bytes dropped.
  uint64_t lose_unsynced();
  /// Syncs succeed without syncing (and count as nothing synced).
  void ignore_syncs(bool on);

  struct tracker;  ///< file lengths, written and synced (fault_env.cpp)

 private:
  std::shared_ptr<std::atomic<bool>> full_;
  std::shared_ptr<std::atomic<uint64_t>> refused_;
  std::shared_ptr<tracker> files_;
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace callq::storage
