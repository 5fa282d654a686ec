// The durable, append-only event log on RocksDB.
//
// Column families: "events" (seq -> record), "streams" (stream\0version ->
// seq, the per-stream index), "idempotency" (key -> value, written in the
// same batch as the events it guards, expiring after a time to live),
// "meta" (format marker, chain head) and "snapshots" (seq -> encoded state;
// the bytes are the replay layer's, storage only keeps them).
//
// Thread-safety: append(), expire_idempotency() and record_head() must be
// called from one thread at a time (the journal); put_snapshot() and every
// read may run concurrently with them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "events/event.hpp"
#include "events/status.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Env;
class WriteBatch;
}  // namespace rocksdb

namespace callq::storage {

/// How to open a log.
struct log_options {
  /// Open without taking the write lock; works while a server writes.
  bool read_only = false;
  /// In write mode, create a new log when the directory is empty or absent.
  bool create_if_missing = true;
  /// How long an idempotency entry answers retries, from the time of the
  /// events written with it (IDEMPOTENCY_TTL).
  int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;
  /// Snapshots kept; older ones are deleted when a new one is written.
  size_t keep_snapshots = 3;
  /// Tests: the RocksDB environment to use (fault injection); null for
  /// the default.
  rocksdb::Env* rocksdb_env = nullptr;
};

/// The end of the log as a writer last recorded it (at every snapshot and
/// at clean shutdown), kept outside the events column family: a log that
/// ends before it has lost its tail.
struct chain_head {
  uint64_t seq = 0;
  events::chain_value chain{};
};

/// A key and value for the idempotency store.
using idempotency_entry = std::pair<std::string, std::string>;

/// Result of an integrity check.
struct verify_report {
  uint64_t events = 0;     ///< events checked
  uint64_t bad_seq = 0;    ///< first sequence where the chain breaks, 0 if none
  std::string problem;     ///< what is wrong at bad_seq
  uint64_t head_seq = 0;   ///< the recorded chain head checked (0: none recorded)
};

/// The format this build writes; a log with a higher one is refused.
constexpr int log_format_version = 1;

class event_log {
 public:
  /// Opens (or creates) the log of a callq data directory: the RocksDB
  /// database lives in `<data_dir>/events`, beside other persisted files.
  static status open_data_dir(const std::string& data_dir, const log_options& opts,
                              std::unique_ptr<event_log>* out);

  /// Opens (or creates) the log in `dir`. Fails with a message when `dir`
  /// is not a callq log or was written by a newer format.
  static status open(const std::string& dir, const log_options& opts,
                     std::unique_ptr<event_log>* out);

  ~event_log();
  event_log(const event_log&) = delete;
  event_log& operator=(const event_log&) = delete;

  /// Appends `evs` and `idem` in one atomic write batch, assigning gap-free
  /// sequence numbers and per-stream versions and extending the integrity
  /// chain. With `sync` the WAL is synced before returning. On success
  /// `*first_seq` is the sequence number of evs[0] (last_seq()+1 if empty).
  status append(const std::vector<events::event>& evs,
                const std::vector<idempotency_entry>& idem, bool sync,
                uint64_t* first_seq);

  /// After a failed write (a full disk): clears RocksDB's error state
  /// (DB::Resume: flushes and starts a new WAL) and re-reads the log's end
  /// from disk. Fails, changing nothing, while writing is still impossible.
  /// Call from the writer's thread with no append under way.
  status resume();

  /// The highest sequence number written (0 for an empty log).
  uint64_t last_seq() const { return last_seq_; }

  /// Calls `fn` with every event from sequence `from` on, in order, until
  /// it returns false. A record that does not decode stops the scan with
  /// an error naming its sequence number.
  status scan(uint64_t from,
              const std::function<bool(const events::envelope&)>& fn) const;

  /// Calls `fn` with the events of one stream in version order, through
  /// the stream index.
  status read_stream(const std::string& stream,
                     const std::function<bool(const events::envelope&)>& fn) const;

  /// Reads one event.
  status get(uint64_t seq, events::envelope* out) const;

  /// Looks up an idempotency key at time `now_ms`; not_found when absent
  /// or older than the time to live. Entries written before expiry existed
  /// (no time stamp) never expire.
  status get_idempotency(const std::string& key, int64_t now_ms, std::string* value) const;

  /// Deletes idempotency entries that expired at `now_ms` (never an
  /// event); `*removed` counts them.
  status expire_idempotency(int64_t now_ms, uint64_t* removed);

  /// Recomputes the integrity chain over the whole log, then checks that
  /// the log reaches the recorded chain head with the same chain value.
  status verify(verify_report* report) const;

  /// The chain value stored with event `seq`.
  status chain_at(uint64_t seq, events::chain_value* out) const;

  /// The recorded chain head; not_found when none was recorded.
  status recorded_head(chain_head* out) const;

  /// Records the current end of the log as its chain head (synced).
  status record_head();

  /// Stores `bytes` as the snapshot covering events up to `seq`, records
  /// the chain head at `seq` (synced, one batch), and deletes all but the
  /// newest `keep_snapshots`.
  status put_snapshot(uint64_t seq, std::string_view bytes);

  /// Sequence numbers of the stored snapshots, newest first.
  status snapshot_seqs(std::vector<uint64_t>* newest_first) const;

  /// The bytes of the snapshot at `seq`.
  status get_snapshot(uint64_t seq, std::string* bytes) const;

  /// Directory of the log.
  const std::string& dir() const { return dir_; }

  /// The underlying database, for tests that tamper with it.
  rocksdb::DB* raw_db() { return db_; }
  rocksdb::ColumnFamilyHandle* raw_events_cf() { return events_cf_; }
  rocksdb::ColumnFamilyHandle* raw_idempotency_cf() { return idem_cf_; }
  rocksdb::ColumnFamilyHandle* raw_snapshots_cf() { return snapshots_cf_; }

 private:
  event_log() = default;
  status load_tail();
  uint64_t next_stream_version(const std::string& stream);
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
  std::mutex head_mu_;  ///< serializes chain head and snapshot writes
  uint64_t head_seq_ = 0;
  bool write_failed_ = false;  ///< since the last successful resume()
  uint64_t last_seq_ = 0;
  events::chain_value last_chain_{};
  /// Last version of recently written streams (a cache, bounded).
  std::unordered_map<std::string, uint64_t> stream_versions_;
  static constexpr size_t max_cached_streams = 200'000;
};

}  // namespace callq::storage
