// The durable, append-only event log: the one interface every part of
// callq reads and writes events through, with two backends (LevelDB's
// `Env` is the model: one contract, several implementations):
//
//   - rocksdb_log (storage/rocksdb_log.hpp): the embedded default, a
//     RocksDB database in the data directory;
//   - postgres_log (storage/postgres_log.hpp): a PostgreSQL database, for
//     several callq processes sharing one log (one leader; README, "High
//     availability").
//
// Both give the same guarantees: a gap-free global sequence, per-stream
// versions, the SHA-256 integrity chain (storage/record.hpp) and its
// recorded head, idempotency entries written atomically with their events
// and expiring after a time to live, snapshots, and one atomic, durable
// write per appended batch (group commit). The contract tests
// (storage/event_log_test.cpp) run one body against both.
//
// Thread-safety: append(), submit_append(), complete_append(), resume(),
// expire_idempotency() and record_head() must be called from one thread
// at a time (the journal); put_snapshot() and every read may run
// concurrently with them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "events/event.hpp"
#include "events/status.hpp"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace callq::storage {

/// How to open a log.
struct log_options {
  /// Open without taking the write lock; works while a server writes.
  bool read_only = false;
  /// In write mode, create a new log when there is none.
  bool create_if_missing = true;
  /// How long an idempotency entry answers retries, from the time of the
  /// events written with it (IDEMPOTENCY_TTL).
  int64_t idempotency_ttl_ms = 24LL * 3600 * 1000;
  /// Snapshots kept; older ones are deleted when a new one is written.
  size_t keep_snapshots = 3;
  /// In write mode, hold background work that can wait (RocksDB's
  /// compactions) until start_background_work(): a server's start would
  /// otherwise share the machine's cores with it.
  bool defer_background_work = false;
  /// ... but only when the log's table files hold at least this many
  /// bytes: a smaller log's compaction is short, and holding then
  /// releasing it rewrites RocksDB's OPTIONS file once per column family
  /// (six writes, fsyncs and parses on every start). RocksDB backend only.
  uint64_t defer_from_table_bytes = 32u << 20;
  /// Tests: the RocksDB environment to use (fault injection); null for
  /// the default. RocksDB backend only.
  rocksdb::Env* rocksdb_env = nullptr;
};

/// The end of the log as a writer last recorded it (at every snapshot and
/// at clean shutdown), kept apart from the events: a log that ends before
/// it has lost its tail.
struct chain_head {
  uint64_t seq = 0;
  events::chain_value chain{};
};

/// A writer's expectation for an append (optimistic concurrency, as
/// EventStoreDB's and Marten's expected versions): before its events,
/// `stream` is at `version` (its last event's version; 0: no event yet).
struct expected_version {
  std::string stream;
  uint64_t version = 0;
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

/// The marker every callq log carries: "callq-event-log/<format>".
extern const char* const log_format_magic;

class event_log {
 public:
  /// Opens (or creates) a log by where it lives: `store` empty, the
  /// RocksDB log of the data directory `data_dir` (`<data_dir>/events`);
  /// `store` a `postgresql://` or `postgres://` URL (libpq's, several
  /// hosts allowed), the PostgreSQL log there. invalid_argument for any
  /// other `store`.
  static status open_store(const std::string& store, const std::string& data_dir,
                           const log_options& opts, std::unique_ptr<event_log>* out);

  /// Opens (or creates) the RocksDB log of a callq data directory.
  static status open_data_dir(const std::string& data_dir, const log_options& opts,
                              std::unique_ptr<event_log>* out);

  /// True when `store` names a PostgreSQL log.
  static bool is_postgres_url(const std::string& store);

  virtual ~event_log() = default;
  event_log(const event_log&) = delete;
  event_log& operator=(const event_log&) = delete;

  /// Appends `evs` and `idem` in one atomic write, assigning gap-free
  /// sequence numbers and per-stream versions and extending the integrity
  /// chain. With `sync` the write is durable before this returns. On
  /// success `*first_seq` is the sequence number of evs[0] (last_seq()+1
  /// if empty). A refused write changes nothing.
  virtual status append(const std::vector<events::event>& evs,
                        const std::vector<idempotency_entry>& idem, bool sync,
                        uint64_t* first_seq) = 0;

  /// Pipelined appends, so that a writer keeps the store busy while it
  /// answers the previous batch. submit_append() assigns the batch its
  /// sequence numbers (`*first_seq`, as append()) and sends it;
  /// complete_append() waits for the oldest batch submitted and not yet
  /// completed and returns its outcome: durable (with `sync`) when it
  /// returns ok. Outcomes come in submission order. When a batch fails,
  /// so does every batch submitted after it, and nothing after the last
  /// durable batch is written. A failed submit_append() sent nothing. At
  /// most max_in_flight() batches are submitted and not completed; no
  /// other write (append(), expire_idempotency(), record_head()) while
  /// any is. The default: submit_append() is append() and
  /// max_in_flight() is 1.
  virtual status submit_append(const std::vector<events::event>& evs,
                               const std::vector<idempotency_entry>& idem, bool sync,
                               uint64_t* first_seq);
  /// The outcome of the oldest submitted batch (see submit_append()).
  virtual status complete_append();
  /// How many batches may be submitted and not completed.
  virtual size_t max_in_flight() const { return 1; }

  /// The version of `stream` as this writer sees it -- its last event's,
  /// counting the batches submitted and not completed (0: none) -- when
  /// the log knows it without a round trip to a remote store; false when
  /// it does not (then an append's expectation on it is left to the
  /// store's own unique (stream, version) index). The writer checks each
  /// append's expected_version against it right before it submits the
  /// batch, so nothing can come between (one writer per log: RocksDB's
  /// lock, PostgreSQL's fencing). Writer's thread only.
  virtual bool known_version(const std::string& stream, uint64_t* version) = 0;

  /// The writer expects `stream`, whose version known_version() does not
  /// say, to be at `version` before the next batch it submits. A log that
  /// keeps versions in a remote store (PostgreSQL) numbers the stream's
  /// events in that batch from `version` on and has the store check it:
  /// when the store holds another version, complete_append() fails that
  /// batch and those submitted after it with status::conflict, writing
  /// nothing of them, and known_version() then says the store's versions
  /// of their streams (so the writer can refuse the appends whose
  /// expectation is wrong and submit the others again). An expectation
  /// for a stream the batch does not write is ignored. Writer's thread.
  /// The default does nothing: a log that always knows its versions.
  virtual void expect_version(const std::string& stream, uint64_t version) {
    (void)stream;
    (void)version;
  }

  /// Streams and their versions as a rebuild of the whole log found them
  /// (the live calls and agents at a start): the writer takes them as
  /// known, so their first appends look nothing up in storage (at 10M
  /// events of history, RocksDB's look-ups of 11,000 streams took most of
  /// a second). They fill the writer's cache of stream versions up to its
  /// bound. Writer's thread, before its first append.
  void learn_versions(const std::vector<std::pair<std::string, uint64_t>>& versions) {
    for (auto& [stream, version] : versions)
      if (stream_versions_.size() < max_cached_streams)
        stream_versions_[stream] = version;
  }

  /// The writer has appended its last to `stream` (a finished call's),
  /// which is at `version` now that that batch is durable: the cache of
  /// stream versions lets go of it, unless a later batch for it changed
  /// the cached version meanwhile. An append to it after all looks its
  /// version up again (RocksDB) or leaves it to the store's index
  /// (PostgreSQL). Writer's thread.
  void forget_version(const std::string& stream, uint64_t version) {
    if (auto i = stream_versions_.find(stream); i != stream_versions_.end() && i->second == version)
      stream_versions_.erase(i);
  }

  /// How many streams' versions the writer holds cached (figures, tests).
  size_t cached_versions() const { return stream_versions_.size(); }

  /// After a failed write: clears the backend's error state and re-reads
  /// the log's end from storage. Fails, changing nothing, while writing is
  /// still impossible. Call from the writer's thread with no append under
  /// way.
  virtual status resume() = 0;

  /// The highest sequence number written or seen (0 for an empty log).
  virtual uint64_t last_seq() const = 0;

  /// Calls `fn` with every event from sequence `from` on, in order, until
  /// it returns false. A record that does not decode stops the scan with
  /// an error naming its sequence number.
  virtual status scan(uint64_t from,
                      const std::function<bool(const events::envelope&)>& fn) const = 0;

  /// Calls `fn` with the stored bytes of every record from `from` on, in
  /// order, with the sequence number they are stored under, until it
  /// returns false (verification reads records, not events).
  virtual status scan_records(
      uint64_t from, const std::function<bool(uint64_t key_seq, std::string_view value)>& fn) const = 0;

  /// Calls `fn` with the events of one stream in version order.
  virtual status read_stream(const std::string& stream,
                             const std::function<bool(const events::envelope&)>& fn) const = 0;

  /// Reads one event.
  virtual status get(uint64_t seq, events::envelope* out) const = 0;

  /// Looks up an idempotency key at time `now_ms`; not_found when absent
  /// or older than the time to live.
  virtual status get_idempotency(const std::string& key, int64_t now_ms,
                                 std::string* value) const = 0;

  /// Deletes idempotency entries that expired at `now_ms` (never an
  /// event); `*removed` counts them.
  virtual status expire_idempotency(int64_t now_ms, uint64_t* removed) = 0;

  /// Recomputes the integrity chain over the whole log, then checks that
  /// the log reaches the recorded chain head with the same chain value.
  /// The same check on every backend (over scan_records()).
  status verify(verify_report* report) const;

  /// The chain value stored with event `seq`.
  virtual status chain_at(uint64_t seq, events::chain_value* out) const = 0;

  /// The recorded chain head; not_found when none was recorded.
  virtual status recorded_head(chain_head* out) const = 0;

  /// Records the current end of the log as its chain head (durably).
  virtual status record_head() = 0;

  /// Stores `bytes` as the snapshot covering events up to `seq`, records
  /// the chain head at `seq` (durably, in one write), and deletes all but
  /// the newest `keep_snapshots`.
  virtual status put_snapshot(uint64_t seq, std::string_view bytes) = 0;

  /// Sequence numbers of the stored snapshots, newest first.
  virtual status snapshot_seqs(std::vector<uint64_t>* newest_first) const = 0;

  /// The bytes of the snapshot at `seq`.
  virtual status get_snapshot(uint64_t seq, std::string* bytes) const = 0;

  /// Where the log lives, for messages: a directory or a URL without its
  /// password.
  virtual std::string where() const = 0;

  /// The local directory whose free space bounds the log (the disk
  /// watcher measures it); empty when the log is not on a local disk.
  virtual std::string local_dir() const = 0;

  // ---- Logs several processes share (README, "High availability") ----

  /// True when other processes may append to this log (PostgreSQL): one
  /// of them leads (storage/leadership.hpp), the others follow.
  virtual bool shared() const { return false; }

  /// From now on every append checks, inside its own atomic write, that
  /// `epoch` is still the log's leadership epoch, and is refused with
  /// status::fenced, changing nothing, once another writer took over;
  /// resume() then fails with status::fenced too. 0: no check. A log
  /// with one writer by construction (RocksDB's directory lock) ignores it.
  virtual void fence_with(int64_t epoch) { (void)epoch; }

  /// Lets the background work that log_options::defer_background_work
  /// held begin; nothing when none was held.
  virtual void start_background_work() {}

  /// A follower's wait: returns when another process may have appended,
  /// or after `timeout_ms`. A log nobody else writes just waits.
  virtual void wait_for_appends(int timeout_ms) const;

 protected:
  event_log() = default;

  /// The writer's cache of stream versions (stream name -> last version),
  /// which a backend fills as it writes and looks up, and clears when it
  /// reaches `max_cached_streams` (a long-running server forgets it now
  /// and then rather than keeping every call it has ever seen). Writer's
  /// thread only.
  std::unordered_map<std::string, uint64_t> stream_versions_;
  static constexpr size_t max_cached_streams = 200'000;

 private:
  /// Batches the default submit_append() wrote and complete_append() has
  /// not yet reported.
  size_t completed_unreported_ = 0;
};

}  // namespace callq::storage
