// The event log backend on PostgreSQL (CALLQ_STORE=postgresql://...), so
// that several callq processes can share one log and a standby can take
// over (README, "High availability"). The contract is event_log's
// (storage/event_log.hpp); the stored record bytes, and so the integrity
// chain, are the same as the RocksDB backend's (storage/record.hpp).
//
// Tables (created on first open for writing): callq_events (seq, stream,
// version, record: one row per event, unique (stream, version)),
// callq_idempotency (key, written_ms, value), callq_snapshots (seq,
// bytes), callq_meta (format marker, chain head) and callq_leader (the
// one row naming the leadership epoch; storage/leadership.hpp).
//
// An append is one statement, so one round trip and one transaction: the
// fencing check, the check that the event before the batch is there, the
// insert of the events (arrays, unnested), the idempotency entries,
// pg_notify('callq_log'); durable when it completes with
// synchronous_commit = on (the default), on the primary and its
// synchronous standbys. Appends are pipelined (libpq's pipeline mode, two
// in flight): the server runs the next batch as soon as the previous one
// commits, while the journal answers the previous one. Reads run on a
// small pool of other connections.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "storage/event_log.hpp"
#include "storage/pg_connection.hpp"

namespace callq::storage {

class postgres_log final : public event_log {
 public:
  /// Connects to `url` and opens (or, for writing, creates) the log's
  /// tables there. not_found when reading a database holding no log.
  static status open(const std::string& url, const log_options& opts,
                     std::unique_ptr<postgres_log>* out);

  ~postgres_log() override;

  bool shared() const override { return true; }
  /// Checked by `SELECT ... FROM callq_leader WHERE epoch = $1 FOR SHARE`
  /// in the append's transaction: a takeover's epoch bump waits for an
  /// append under way, and an append after it finds no row.
  void fence_with(int64_t epoch) override;
  /// LISTEN callq_log on a connection of its own (every append NOTIFYs).
  void wait_for_appends(int timeout_ms) const override;

  /// The connection URL (with its password).
  const std::string& url() const { return url_; }

  status append(const std::vector<events::event>& evs, const std::vector<idempotency_entry>& idem,
                bool sync, uint64_t* first_seq) override;
  /// From the writer's cache (versions it wrote or looked up, batches in
  /// flight included); a stream it has not seen lately is not known here
  /// (a look-up would cost a round trip and drain the pipeline).
  bool known_version(const std::string& stream, uint64_t* version) override {
    auto i = stream_versions_.find(stream);
    if (i == stream_versions_.end())
      return false;
    *version = i->second;
    return true;
  }
  /// Numbers the stream's events in the next batch from `version` on,
  /// and when the unique (stream, version) index refuses the batch, looks
  /// the versions up and fails it as a conflict if the store's is not
  /// `version`.
  void expect_version(const std::string& stream, uint64_t version) override {
    expected_[stream] = version;
  }
  status submit_append(const std::vector<events::event>& evs,
                       const std::vector<idempotency_entry>& idem, bool sync,
                       uint64_t* first_seq) override;
  status complete_append() override;
  size_t max_in_flight() const override { return 2; }
  /// Reconnects the writer's connection (through libpq's multi-host
  /// failover) and re-reads the log's end: an append whose COMMIT went
  /// unanswered is then either in the log or not, never half.
  status resume() override;
  uint64_t last_seq() const override { return last_seq_.load(); }
  status scan(uint64_t from, const std::function<bool(const events::envelope&)>& fn) const override;
  status scan_records(uint64_t from,
                      const std::function<bool(uint64_t, std::string_view)>& fn) const override;
  status read_stream(const std::string& stream,
                     const std::function<bool(const events::envelope&)>& fn) const override;
  status get(uint64_t seq, events::envelope* out) const override;
  status get_idempotency(const std::string& key, int64_t now_ms, std::string* value) const override;
  status expire_idempotency(int64_t now_ms, uint64_t* removed) override;
  status chain_at(uint64_t seq, events::chain_value* out) const override;
  status recorded_head(chain_head* out) const override;
  status record_head() override;
  status put_snapshot(uint64_t seq, std::string_view bytes) override;
  status snapshot_seqs(std::vector<uint64_t>* newest_first) const override;
  status get_snapshot(uint64_t seq, std::string* bytes) const override;
  std::string where() const override { return redact_password(url_); }
  std::string local_dir() const override { return {}; }

 private:
  postgres_log() = default;
  /// Runs `f` on a pooled reading connection (made when none is idle).
  status with_reader(const std::function<status(pg_connection&)>& f) const;
  /// The one value `sql` selects for $1 = `seq`; not_found ("<what>
  /// <seq>") when there is no row.
  status value_at(const char* sql, uint64_t seq, const std::string& what, std::string* out) const;
  /// The last event's sequence and chain, read through `c`.
  status load_tail(pg_connection& c);
  /// Sets up a new session of the writer's connection.
  status start_writer_session();
  /// An append sent and not yet completed.
  struct in_flight_append {
    std::vector<events::event> evs;           ///< kept to send again
    std::vector<idempotency_entry> idem;      ///< one per key
    uint64_t prev_seq = 0;                    ///< the event before the batch
    events::chain_value prev_chain{};         ///< and its chain value
    events::chain_value end_chain{};          ///< the chain after the batch
    bool guessed = false;                     ///< a stream's version was guessed
    /// The writer's expectations for streams it did not know (expect_version()).
    std::vector<std::pair<std::string, uint64_t>> expected;
    status outcome;                           ///< set when an earlier batch failed
  };
  /// Numbers, encodes and sends `a` after everything sent before.
  status send(in_flight_append& a);
  /// After a wrong version guess: drains the pipeline, looks the versions
  /// of every batch in flight up and sends them all again; a conflict,
  /// sending nothing, when a writer's expectation is not what the store
  /// holds.
  status redo_in_flight();
  /// Drops `a`'s streams from the version cache.
  void forget_streams(const in_flight_append& a);
  /// Fills stream_versions_ for `streams` (one query for those not there).
  status stream_versions(const std::vector<std::string>& streams);
  /// Writes `head` in the current transaction of the writer unless a
  /// later one is recorded; call with head_mu_ held.
  status add_head(pg_connection& c, const chain_head& head);

  std::string url_;
  bool read_only_ = false;
  int64_t idempotency_ttl_ms_ = 0;
  size_t keep_snapshots_ = 3;
  std::unique_ptr<pg_connection> writer_;  ///< the journal's (appends, heads, expiry)
  mutable std::mutex pool_mu_;
  mutable std::vector<std::unique_ptr<pg_connection>> idle_;  ///< readers not in use
  std::mutex head_mu_;  ///< serializes chain head and snapshot writes
  uint64_t head_seq_ = 0;
  std::atomic<int64_t> fence_epoch_{0};
  bool fenced_ = false;  ///< an append was refused: another writer leads
  bool session_sync_ = true;  ///< the writer's synchronous_commit is the default
  bool wrote_ = false;        ///< this writer appended since it opened
  mutable std::mutex listen_mu_;
  mutable std::unique_ptr<pg_connection> listener_;  ///< LISTEN callq_log
  std::atomic<uint64_t> last_seq_{0};  ///< the last durable event
  events::chain_value last_chain_{};
  uint64_t sent_seq_ = 0;  ///< the last event sent (durable or in flight)
  events::chain_value sent_chain_{};
  std::deque<in_flight_append> in_flight_;
  std::unordered_map<std::string, uint64_t> expected_;  ///< for the next batch (expect_version())
};

}  // namespace callq::storage
