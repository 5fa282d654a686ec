// A fault-injecting storage environment for tests (LevelDB's Env is the
// model): a RocksDB FileSystem that forwards to the real one until told
// the disk is full, then fails every write and sync with NoSpace, as a
// full file system does, until told space is back.
#pragma once

#include <atomic>
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

 private:
  std::shared_ptr<std::atomic<bool>> full_;
  std::shared_ptr<std::atomic<uint64_t>> refused_;
  std::unique_ptr<rocksdb::Env> env_;
};

}  // namespace callq::storage
