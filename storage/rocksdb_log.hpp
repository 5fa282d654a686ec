// The embedded event log backend: a RocksDB database (the default).
//
// Column families: "events" (seq -> record), "streams" (stream\0version ->
// seq, the per-stream index), "idempotency" (key -> value, written in the
// same batch as the events it guards, expiring after a time to live),
// "meta" (format marker, chain head, the index of snapshots) and
// "snapshots" (seq -> encoded state; the bytes are the replay layer's,
// storage only keeps them). The index ("snapshot/" + seq -> "", written
// in the same batch as each snapshot) lists them without reading them:
// listing the snapshots family's keys reads every block, so every
// snapshot's megabytes.
//
// The contract is event_log's (storage/event_log.hpp).
#pragma once

#include <mutex>
#include <unordered_map>

#include "storage/event_log.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace callq::storage {

class rocksdb_log final : public event_log {
 public:
  /// Opens (or creates) the log of a callq data directory: the RocksDB
  /// database lives in `<data_dir>/events`, beside other persisted files.
  static status open_data_dir(const std::string& data_dir, const log_options& opts,
                              std::unique_ptr<rocksdb_log>* out);

  /// Opens (or creates) the log in `dir`. Fails with a message when `dir`
  /// is not a callq log or was written by a newer format.
  static status open(const std::string& dir, const log_options& opts,
                     std::unique_ptr<rocksdb_log>* out);

  ~rocksdb_log() override;

  bool known_version(const std::string& stream, uint64_t* version) override {
    *version = cached_version(stream);  // a local look-up: always known
    return true;
  }
  status append(const std::vector<events::event>& evs, const std::vector<idempotency_entry>& idem,
                bool sync, uint64_t* first_seq) override;
  /// DB::Resume (flushes and starts a new WAL), then re-reads the tail.
  status resume() override;
  uint64_t last_seq() const override { return last_seq_; }
  status scan(uint64_t from, const std::function<bool(const events::envelope&)>& fn) const override;
  status scan_records(uint64_t from,
                      const std::function<bool(uint64_t, std::string_view)>& fn) const override;
  status read_stream(const std::string& stream,
                     const std::function<bool(const events::envelope&)>& fn) const override;
  status get(uint64_t seq, events::envelope* out) const override;
  /// Entries written before expiry existed (no time stamp) never expire.
  status get_idempotency(const std::string& key, int64_t now_ms, std::string* value) const override;
  status expire_idempotency(int64_t now_ms, uint64_t* removed) override;
  status chain_at(uint64_t seq, events::chain_value* out) const override;
  status recorded_head(chain_head* out) const override;
  status record_head() override;
  status put_snapshot(uint64_t seq, std::string_view bytes) override;
  status snapshot_seqs(std::vector<uint64_t>* newest_first) const override;
  status get_snapshot(uint64_t seq, std::string* bytes) const override;
  std::string where() const override { return dir_; }
  std::string local_dir() const override { return dir_; }

  /// Directory of the log.
  const std::string& dir() const { return dir_; }

  /// The underlying database, for tests that tamper with it.
  rocksdb::DB* raw_db() { return db_; }
  rocksdb::ColumnFamilyHandle* raw_events_cf() { return events_cf_; }
  rocksdb::ColumnFamilyHandle* raw_idempotency_cf() { return idem_cf_; }
  rocksdb::ColumnFamilyHandle* raw_snapshots_cf() { return snapshots_cf_; }

  /// Enables the compactions log_options::defer_background_work held.
  void start_background_work() override;

 private:
  rocksdb_log() = default;
  /// Finds meta's index of snapshots, or (a read-write open of a log
  /// from before it) writes it.
  status load_index_of_snapshots();
  status load_tail();
  /// Writes `batch` with the WAL synced; an error names `what`.
  status write_synced(rocksdb::WriteBatch* batch, const std::string& what);
  uint64_t next_stream_version(const std::string& stream);
  /// The last version of `stream` (0: none), looked up once and cached.
  uint64_t& cached_version(const std::string& stream);
  /// Adds `head` to `batch` unless a later one is recorded; call with
  /// head_mu_ held.
  void add_head(const chain_head& head, rocksdb::WriteBatch* batch);

  std::string dir_;
  bool read_only_ = false;
  rocksdb::DB* db_ = nullptr;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* events_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* idem_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* snapshots_cf_ = nullptr;  ///< null: none (read-only, old log)
  int64_t idempotency_ttl_ms_ = 0;
  size_t keep_snapshots_ = 3;
  /// Whether meta's index lists every snapshot (logs written before it
  /// gain it at their first read-write open; a read-only open of one
  /// lists the snapshots family itself).
  bool snapshot_index_ = false;
  bool compactions_held_ = false;  ///< log_options::defer_background_work, until started
  std::mutex head_mu_;  ///< serializes chain head and snapshot writes
  uint64_t head_seq_ = 0;
  bool write_failed_ = false;  ///< since the last successful resume()
  uint64_t last_seq_ = 0;
  events::chain_value last_chain_{};
};

}  // namespace callq::storage
