// The durable, append-only event log on RocksDB.
//
// Column families: "events" (seq -> record), "streams" (stream\0version ->
// seq, the per-stream index), "idempotency" (key -> value, written in the
// same batch as the events it guards) and "meta" (format marker).
//
// Thread-safety: append() must be called from one thread at a time (the
// journal actor); every read may run concurrently with it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "events/event.hpp"
#include "events/status.hpp"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace callq::storage {

/// How to open a log.
struct log_options {
  /// Open without taking the write lock; works while a server writes.
  bool read_only = false;
  /// In write mode, create a new log when the directory is empty or absent.
  bool create_if_missing = true;
};

/// A key and value for the idempotency store.
using idempotency_entry = std::pair<std::string, std::string>;

/// Result of an integrity check.
struct verify_report {
  uint64_t events = 0;     ///< events checked
  uint64_t bad_seq = 0;    ///< first sequence where the chain breaks, 0 if none
  std::string problem;     ///< what is wrong at bad_seq
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

  /// Looks up an idempotency key; not_found when absent.
  status get_idempotency(const std::string& key, std::string* value) const;

  /// Recomputes the integrity chain over the whole log.
  status verify(verify_report* report) const;

  /// Directory of the log.
  const std::string& dir() const { return dir_; }

  /// The underlying database, for tests that tamper with it.
  rocksdb::DB* raw_db() { return db_; }
  rocksdb::ColumnFamilyHandle* raw_events_cf() { return events_cf_; }

 private:
  event_log() = default;
  status load_tail();
  uint64_t next_stream_version(const std::string& stream);

  std::string dir_;
  bool read_only_ = false;
  rocksdb::DB* db_ = nullptr;
  rocksdb::ColumnFamilyHandle* default_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* events_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* idem_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  uint64_t last_seq_ = 0;
  events::chain_value last_chain_{};
  /// Last version of recently written streams (a cache, bounded).
  std::unordered_map<std::string, uint64_t> stream_versions_;
  static constexpr size_t max_cached_streams = 200'000;
};

}  // namespace callq::storage
