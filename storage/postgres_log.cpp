#include "storage/postgres_log.hpp"

#include <algorithm>
#include <map>

#include <poll.h>

#include "storage/record.hpp"

namespace callq::storage {

namespace {

/// Serializes concurrent first opens of one database (any constant will
/// do; this one spells "callq").
constexpr const char* schema_sql = R"(
BEGIN;
SELECT pg_advisory_xact_lock(6361, 1);
CREATE TABLE IF NOT EXISTS callq_meta (key text PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE IF NOT EXISTS callq_events (
  seq bigint PRIMARY KEY,
  stream bytea NOT NULL,
  version bigint NOT NULL,
  record bytea NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS callq_events_stream_version ON callq_events (stream, version);
CREATE TABLE IF NOT EXISTS callq_idempotency (
  key bytea PRIMARY KEY,
  written_ms bigint NOT NULL,
  value bytea NOT NULL);
CREATE INDEX IF NOT EXISTS callq_idempotency_written ON callq_idempotency (written_ms);
CREATE TABLE IF NOT EXISTS callq_snapshots (seq bigint PRIMARY KEY, bytes bytea NOT NULL);
CREATE TABLE IF NOT EXISTS callq_leader (
  id int PRIMARY KEY CHECK (id = 1),
  epoch bigint NOT NULL,
  holder text NOT NULL,
  backend_pid int NOT NULL DEFAULT 0,
  renewed_at timestamptz NOT NULL DEFAULT now());
INSERT INTO callq_leader (id, epoch, holder) VALUES (1, 0, '') ON CONFLICT DO NOTHING;
COMMIT;
)";

/// Streams per version lookup (one parameter each; PostgreSQL takes at
/// most 65,535 per statement).
constexpr size_t streams_per_lookup = 1000;

}  // namespace

status postgres_log::open(const std::string& url, const log_options& opts,
                          std::unique_ptr<postgres_log>* out) {
  std::unique_ptr<postgres_log> log(new postgres_log);
  log->url_ = url;
  log->read_only_ = opts.read_only;
  log->idempotency_ttl_ms_ = opts.idempotency_ttl_ms;
  log->keep_snapshots_ = std::max<size_t>(opts.keep_snapshots, 1);
  if (auto st = pg_connection::connect(url, &log->writer_); !st)
    return st;
  if (auto st = log->start_writer_session(); !st)
    return st;
  pg_connection& c = *log->writer_;
  pg_rows rows;
  if (auto st = c.exec("SELECT to_regclass('callq_meta') IS NOT NULL", {}, &rows); !st)
    return st;
  bool exists = rows.count() == 1 && rows.bytes(0, 0) == std::string_view("\x01", 1);
  if (!exists && (opts.read_only || !opts.create_if_missing))
    return status::not_found(log->where() + " holds no callq event log");
  std::string marker = std::string(log_format_magic) + "/" + std::to_string(log_format_version);
  if (!opts.read_only) {
    if (auto st = c.exec_script(schema_sql); !st) {
      c.exec_script("ROLLBACK");
      return st;
    }
    if (auto st = c.exec("INSERT INTO callq_meta VALUES ('format', $1) ON CONFLICT DO NOTHING",
                         pg_params().bytes(marker));
        !st)
      return st;
  }
  if (auto st = c.exec("SELECT value FROM callq_meta WHERE key = 'format'", {}, &rows); !st)
    return st;
  if (rows.count() != 1)
    return status::invalid_argument(log->where() + " is not a callq event log (no format marker)");
  std::string found(rows.bytes(0, 0));
  auto slash = found.rfind('/');
  if (slash == std::string::npos || found.compare(0, slash, log_format_magic) != 0)
    return status::invalid_argument(log->where() + " is not a callq event log (marker '" + found + "')");
  int version = std::atoi(found.c_str() + slash + 1);
  if (version > log_format_version)
    return status::not_supported(log->where() + " was written by a newer callq (log format " +
                                 std::to_string(version) + ", this build reads up to " +
                                 std::to_string(log_format_version) + ")");
  if (auto st = log->load_tail(c); !st)
    return st;
  chain_head head;
  if (log->recorded_head(&head))
    log->head_seq_ = head.seq;
  *out = std::move(log);
  return status::ok();
}

postgres_log::~postgres_log() {
  // A clean end, recorded by the one that wrote it (a follower that never
  // appended, or a fenced leader, leaves the head to the leader).
  while (!in_flight_.empty())  // their outcomes, so that the head recorded is durable
    complete_append();
  if (!read_only_ && writer_ && writer_->ok() && wrote_ && !fenced_)
    record_head();
}

status postgres_log::with_reader(const std::function<status(pg_connection&)>& f) const {
  std::unique_ptr<pg_connection> c;
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_.empty()) {
      c = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!c)
    if (auto st = pg_connection::connect(url_, &c); !st)
      return st;
  status st = f(*c);
  if (!st && !c->ok()) {
    // An idle connection the server dropped (a restart, a failover): reads
    // are idempotent, so once more on a new one.
    if (auto again = pg_connection::connect(url_, &c); !again)
      return again;
    st = f(*c);
  }
  if (c->ok()) {
    std::lock_guard lock(pool_mu_);
    if (idle_.size() < 8)
      idle_.push_back(std::move(c));
  }
  return st;
}

status postgres_log::load_tail(pg_connection& c) {
  pg_rows rows;
  if (auto st = c.exec("SELECT seq, record FROM callq_events ORDER BY seq DESC LIMIT 1", {}, &rows);
      !st)
    return st;
  if (rows.count() == 0) {
    last_seq_ = sent_seq_ = 0;
    last_chain_ = sent_chain_ = {};
    return status::ok();
  }
  uint64_t seq = static_cast<uint64_t>(rows.i64(0, 0));
  record_view r;
  if (auto st = parse_record(rows.bytes(0, 1), &r); !st)
    return status::corruption("last event " + std::to_string(seq) + ": " + st.message());
  std::copy(r.chain.begin(), r.chain.end(), last_chain_.begin());
  last_seq_ = sent_seq_ = seq;
  sent_chain_ = last_chain_;
  return status::ok();
}

status postgres_log::stream_versions(const std::vector<std::string>& streams) {
  // The streams this writer has not seen lately, looked up in one query.
  std::vector<std::string> unknown;
  for (auto& s : streams)
    if (!stream_versions_.count(s) && std::find(unknown.begin(), unknown.end(), s) == unknown.end())
      unknown.push_back(s);
  if (unknown.empty())
    return status::ok();
  if (stream_versions_.size() + unknown.size() >= max_cached_streams)
    stream_versions_.clear();
  for (size_t from = 0; from < unknown.size(); from += streams_per_lookup) {
    size_t n = std::min(streams_per_lookup, unknown.size() - from);
    pg_params p;
    std::string in;
    for (size_t k = 0; k < n; ++k) {
      p.bytes(unknown[from + k]);
      in += (k == 0 ? "$" : ",$") + std::to_string(k + 1);
    }
    pg_rows rows;
    if (auto st = writer_->exec("SELECT stream, max(version) FROM callq_events WHERE stream IN (" + in +
                                    ") GROUP BY stream",
                                p, &rows);
        !st)
      return st;
    for (size_t k = 0; k < n; ++k)
      stream_versions_[unknown[from + k]] = 0;
    for (int r = 0; r < rows.count(); ++r)
      stream_versions_[std::string(rows.bytes(r, 0))] = static_cast<uint64_t>(rows.i64(r, 1));
  }
  return status::ok();
}

namespace {

/// The append statement. One statement, so one round trip and its own
/// transaction, the same text whatever the batch (arrays, unnested): the
/// fencing check under a row lock (a takeover's epoch bump waits for it;
/// after the bump it finds no row), the check that the event before the
/// batch is in the log (a pipelined batch whose predecessor failed writes
/// nothing, so the sequence has no gap), the events, the idempotency
/// entries, the followers' wake-up. It returns the two checks' counts.
const std::string& append_sql(bool fenced) {
  static const std::string body =
      ", prev AS (SELECT 1 WHERE $10::int8 = 0 OR EXISTS (SELECT 1 FROM callq_events WHERE seq = $10)), "
      "ok AS (SELECT 1 FROM fence, prev), "
      "ev AS (INSERT INTO callq_events (seq, stream, version, record) "
      "SELECT * FROM unnest($2, $3, $4, $5) WHERE EXISTS (SELECT 1 FROM ok)), "
      "idem AS (INSERT INTO callq_idempotency (key, written_ms, value) "
      "SELECT k, $7, v FROM unnest($6, $8) AS u(k, v) WHERE EXISTS (SELECT 1 FROM ok) "
      "ON CONFLICT (key) DO UPDATE SET written_ms = EXCLUDED.written_ms, value = EXCLUDED.value) "
      "SELECT (SELECT count(*) FROM fence)::int8, (SELECT count(*) FROM prev)::int8, "
      "pg_notify('callq_log', $9)";
  static const std::string with_fence =
      "WITH fence AS (SELECT 1 FROM callq_leader WHERE id = 1 AND epoch = $1 FOR SHARE)" + body;
  static const std::string without = "WITH fence AS (SELECT 1 WHERE $1 = 0)" + body;
  return fenced ? with_fence : without;
}

/// The unique index a wrong guess of a stream's version runs into.
constexpr const char* stream_version_index = "callq_events_stream_version";

}  // namespace

status postgres_log::start_writer_session() {
  // The append statement's plan does not depend on its arrays' contents:
  // a generic plan spares planning every batch (measured: about 12 % more
  // events per second, bench/README.md).
  session_sync_ = true;
  return writer_->exec_script("SET plan_cache_mode = force_generic_plan");
}

status postgres_log::append(const std::vector<events::event>& evs,
                            const std::vector<idempotency_entry>& idem, bool sync,
                            uint64_t* first_seq) {
  if (!in_flight_.empty())
    return status::invalid_argument("append() with pipelined appends in flight");
  if (auto st = submit_append(evs, idem, sync, first_seq); !st)
    return st;
  return complete_append();
}

status postgres_log::submit_append(const std::vector<events::event>& evs,
                                   const std::vector<idempotency_entry>& idem, bool sync,
                                   uint64_t* first_seq) {
  std::unordered_map<std::string, uint64_t> expected;
  expected.swap(expected_);  // for this batch only, whatever happens to it
  if (read_only_)
    return status::not_supported("the log is open read-only");
  if (fenced_)
    return status::fenced("another callq took the log over: this one may not write again until "
                          "it leads again (a new epoch)");
  if (in_flight_.size() >= max_in_flight())
    return status::invalid_argument("more pipelined appends than max_in_flight()");
  if (sync != session_sync_) {  // appends without a durable commit (tests, benchmarks)
    if (!in_flight_.empty())
      return status::invalid_argument("sync changed with pipelined appends in flight");
    if (auto st = writer_->exec_script(sync ? "SET synchronous_commit TO DEFAULT"
                                            : "SET synchronous_commit TO off");
        !st)
      return st;
    session_sync_ = sync;
  }
  in_flight_append a;
  a.evs = evs;
  for (const auto& ev : evs)
    if (auto x = expected.find(events::stream_of(ev.body)); x != expected.end()) {
      a.expected.emplace_back(x->first, x->second);
      expected.erase(x);
    }
  std::map<std::string, std::string> rows;  // one row per key: the last wins
  for (const auto& [k, v] : idem)
    rows[k] = v;
  for (auto& [k, v] : rows)
    a.idem.emplace_back(k, v);
  in_flight_.push_back(std::move(a));
  if (auto st = send(in_flight_.back()); !st) {
    forget_streams(in_flight_.back());
    sent_seq_ = in_flight_.back().prev_seq;
    sent_chain_ = in_flight_.back().prev_chain;
    in_flight_.pop_back();
    return st;
  }
  *first_seq = in_flight_.back().prev_seq + 1;
  return status::ok();
}

status postgres_log::send(in_flight_append& a) {
  // Sequence numbers follow the batches sent before; a stream this writer
  // has not seen lately is taken to be new (version 1). That guess costs
  // no round trip, and when it is wrong the unique (stream, version)
  // index refuses the batch and complete_append() looks the versions up.
  if (stream_versions_.size() + a.evs.size() >= max_cached_streams && in_flight_.size() == 1)
    stream_versions_.clear();
  // A stream the writer expects at a version this writer did not know is
  // numbered from there: a guess, checked by the same index.
  for (auto& [stream, version] : a.expected)
    if (stream_versions_.emplace(stream, version).second)
      a.guessed = true;
  a.prev_seq = sent_seq_;
  a.prev_chain = sent_chain_;
  uint64_t seq = sent_seq_;
  events::chain_value chain = sent_chain_;
  std::vector<int64_t> seqs, versions;
  std::vector<std::string> streams, records;
  seqs.reserve(a.evs.size());
  versions.reserve(a.evs.size());
  streams.reserve(a.evs.size());
  records.reserve(a.evs.size());
  std::string body;
  for (const auto& ev : a.evs) {
    streams.push_back(events::stream_of(ev.body));
    ++seq;
    auto [known, fresh] = stream_versions_.try_emplace(streams.back(), 0);
    a.guessed = a.guessed || fresh;
    uint64_t version = ++known->second;
    encode_record_body(seq, streams.back(), version, ev, body);
    chain = chain_next(chain, body);
    body.append(reinterpret_cast<const char*>(chain.data()), chain.size());
    seqs.push_back(static_cast<int64_t>(seq));
    versions.push_back(static_cast<int64_t>(version));
    records.push_back(body);
  }
  std::vector<std::string> keys, answers;
  for (auto& [k, v] : a.idem) {
    keys.push_back(k);
    answers.push_back(v);
  }
  sent_seq_ = seq;
  sent_chain_ = chain;
  a.end_chain = chain;
  int64_t epoch = fence_epoch_.load();
  pg_params p;
  p.i64(epoch)
      .i64_array(seqs)
      .bytes_array(streams)
      .i64_array(versions)
      .bytes_array(records)
      .bytes_array(keys)
      .i64(a.evs.empty() ? 0 : a.evs.back().ts_ms)
      .bytes_array(answers)
      .text(std::to_string(seq))
      .i64(static_cast<int64_t>(a.prev_seq));
  return writer_->send_prepared(epoch != 0 ? "callq_append_fenced" : "callq_append",
                                append_sql(epoch != 0), p);
}

void postgres_log::forget_streams(const in_flight_append& a) {
  for (const auto& ev : a.evs)
    stream_versions_.erase(events::stream_of(ev.body));
}

status postgres_log::complete_append() {
  if (in_flight_.empty())
    return status::invalid_argument("complete_append() with no append in flight");
  in_flight_append& a = in_flight_.front();
  status st = a.outcome;
  pg_rows rows;
  std::string constraint;
  if (st)
    st = writer_->receive(&rows, &constraint);
  if (!st && constraint == stream_version_index && a.guessed) {
    // A guessed version was wrong: nothing of this batch or the ones sent
    // after it was written. Look their streams up, then send them again
    // with the same sequence numbers.
    if (auto again = redo_in_flight(); !again)
      st = again;
    else
      st = writer_->receive(&rows, &constraint);
  }
  if (st && (rows.count() != 1 || rows.i64(0, 0) != 1)) {
    fenced_ = true;
    st = status::fenced("another callq took the log over (leadership epoch " +
                        std::to_string(fence_epoch_.load()) + " is over)");
  }
  if (st && rows.i64(0, 1) != 1)
    st = status::io_error("the log's end moved under its writer (event " + std::to_string(a.prev_seq) +
                          " is not in the log)");
  if (!st) {
    // Nothing from this batch on is written (or, when the answer was lost,
    // unknown until resume() reads the end again): the batches after it
    // fail too, and the next one follows the last durable event.
    while (writer_->in_flight() > 0)
      writer_->receive(nullptr);
    for (auto& later : in_flight_) {
      later.outcome = st;
      if (!st.is_conflict())  // a conflict leaves the versions just looked up
        forget_streams(later);
    }
    sent_seq_ = last_seq_.load();
    sent_chain_ = last_chain_;
    in_flight_.pop_front();
    return st;
  }
  last_seq_ = a.prev_seq + a.evs.size();
  last_chain_ = a.end_chain;
  wrote_ = true;
  in_flight_.pop_front();
  return status::ok();
}

status postgres_log::redo_in_flight() {
  while (writer_->in_flight() > 0)
    writer_->receive(nullptr);  // refused by their check of the event before them
  std::vector<std::string> streams;
  for (auto& a : in_flight_) {
    forget_streams(a);
    for (const auto& ev : a.evs)
      streams.push_back(events::stream_of(ev.body));
  }
  if (auto st = stream_versions(streams); !st)
    return st;
  for (auto& a : in_flight_)
    for (auto& [stream, version] : a.expected)
      if (auto now = stream_versions_.at(stream); now != version)
        return status::conflict("stream " + stream + " is at version " + std::to_string(now) +
                                ", its writer expected " + std::to_string(version));
  for (auto& a : in_flight_)
    a.expected.clear();  // checked: the looked-up versions stand
  sent_seq_ = in_flight_.front().prev_seq;
  sent_chain_ = in_flight_.front().prev_chain;
  for (auto& a : in_flight_) {
    a.guessed = false;
    if (auto st = send(a); !st)
      return st;
  }
  return status::ok();
}

void postgres_log::fence_with(int64_t epoch) {
  fence_epoch_ = epoch;
  fenced_ = false;
}

void postgres_log::wait_for_appends(int timeout_ms) const {
  std::unique_lock lock(listen_mu_);
  if (!listener_ || !listener_->ok()) {
    listener_.reset();
    if (!pg_connection::connect(url_, &listener_) || !listener_->exec_script("LISTEN callq_log")) {
      listener_.reset();
      lock.unlock();
      event_log::wait_for_appends(timeout_ms);  // the catch-up reads still run
      return;
    }
  }
  if (!listener_->notifications().empty())
    return;
  pollfd p{listener_->socket(), POLLIN, 0};
  if (poll(&p, 1, timeout_ms) > 0)
    listener_->notifications();
}

status postgres_log::resume() {
  if (read_only_)
    return status::not_supported("the log is open read-only");
  if (fenced_)
    return status::fenced("another callq took the log over: this one may not write again until "
                          "it leads again (a new epoch)");
  while (writer_->ok() && writer_->in_flight() > 0)
    writer_->receive(nullptr);
  in_flight_.clear();
  if (!writer_->ok() || !writer_->exec_script("SELECT 1")) {
    if (auto st = writer_->reset(); !st)
      return st;
    if (auto st = start_writer_session(); !st)
      return st;
  }
  stream_versions_.clear();
  return load_tail(*writer_);
}

status postgres_log::scan_records(uint64_t from,
                                  const std::function<bool(uint64_t, std::string_view)>& fn) const {
  // Pages of rows in sequence order: constant memory over any log. `next`
  // outlives a retry on a new connection, which goes on where this stopped.
  uint64_t next = from == 0 ? 1 : from;
  return with_reader([&](pg_connection& c) {
    for (;;) {
      pg_rows rows;
      if (auto st = c.exec("SELECT seq, record FROM callq_events WHERE seq >= $1 ORDER BY seq LIMIT 2000",
                           pg_params().i64(static_cast<int64_t>(next)), &rows);
          !st)
        return st;
      for (int i = 0; i < rows.count(); ++i) {
        auto seq = static_cast<uint64_t>(rows.i64(i, 0));
        if (!fn(seq, rows.bytes(i, 1)))
          return status::ok();
        next = seq + 1;
      }
      if (rows.count() < 2000)
        return status::ok();
    }
  });
}

status postgres_log::scan(uint64_t from, const std::function<bool(const events::envelope&)>& fn) const {
  status failure;
  events::envelope e;
  auto st = scan_records(from, [&](uint64_t seq, std::string_view value) {
    if (auto d = decode_record(value, &e); !d) {
      failure = d.message().rfind("event ", 0) == 0
                    ? d
                    : status::corruption("event " + std::to_string(seq) + ": " + d.message());
      return false;
    }
    return fn(e);
  });
  return st ? failure : st;
}

status postgres_log::read_stream(const std::string& stream,
                                 const std::function<bool(const events::envelope&)>& fn) const {
  return with_reader([&](pg_connection& c) {
    pg_rows rows;
    if (auto st = c.exec("SELECT record FROM callq_events WHERE stream = $1 ORDER BY version",
                         pg_params().bytes(stream), &rows);
        !st)
      return st;
    events::envelope e;
    for (int i = 0; i < rows.count(); ++i) {
      if (auto st = decode_record(rows.bytes(i, 0), &e); !st)
        return st;
      if (!fn(e))
        break;
    }
    return status::ok();
  });
}

status postgres_log::value_at(const char* sql, uint64_t seq, const std::string& what,
                              std::string* out) const {
  return with_reader([&](pg_connection& c) {
    pg_rows rows;
    if (auto st = c.exec(sql, pg_params().i64(static_cast<int64_t>(seq)), &rows); !st)
      return st;
    if (rows.count() == 0)
      return status::not_found(what + " " + std::to_string(seq));
    out->assign(rows.bytes(0, 0));
    return status::ok();
  });
}

status postgres_log::get(uint64_t seq, events::envelope* out) const {
  std::string value;
  if (auto st = value_at("SELECT record FROM callq_events WHERE seq = $1", seq, "event", &value); !st)
    return st;
  return decode_record(value, out);
}

status postgres_log::chain_at(uint64_t seq, events::chain_value* out) const {
  std::string value;
  if (auto st = value_at("SELECT record FROM callq_events WHERE seq = $1", seq, "event", &value); !st)
    return st;
  record_view r;
  if (auto st = parse_record(value, &r); !st)
    return status::corruption("event " + std::to_string(seq) + ": " + st.message());
  std::copy(r.chain.begin(), r.chain.end(), out->begin());
  return status::ok();
}

status postgres_log::get_idempotency(const std::string& key, int64_t now_ms, std::string* value) const {
  return with_reader([&](pg_connection& c) {
    pg_rows rows;
    if (auto st = c.exec("SELECT written_ms, value FROM callq_idempotency WHERE key = $1",
                         pg_params().bytes(key), &rows);
        !st)
      return st;
    if (rows.count() == 0)
      return status::not_found("idempotency key");
    if (now_ms - rows.i64(0, 0) >= idempotency_ttl_ms_)
      return status::not_found("idempotency key (expired)");
    value->assign(rows.bytes(0, 1));
    return status::ok();
  });
}

status postgres_log::expire_idempotency(int64_t now_ms, uint64_t* removed) {
  *removed = 0;
  if (read_only_)
    return status::not_supported("the log is open read-only");
  pg_rows rows;
  if (auto st = writer_->exec("DELETE FROM callq_idempotency WHERE written_ms <= $1",
                              pg_params().i64(now_ms - idempotency_ttl_ms_), &rows);
      !st)
    return st;
  *removed = static_cast<uint64_t>(rows.affected());
  return status::ok();
}

status postgres_log::recorded_head(chain_head* out) const {
  return with_reader([&](pg_connection& c) {
    pg_rows rows;
    if (auto st = c.exec("SELECT value FROM callq_meta WHERE key = 'chain-head'", {}, &rows); !st)
      return st;
    if (rows.count() == 0)
      return status::not_found("chain head");
    if (!decode_chain_head(rows.bytes(0, 0), &out->seq, &out->chain))
      return status::corruption("the recorded chain head is malformed");
    return status::ok();
  });
}

status postgres_log::add_head(pg_connection& c, const chain_head& head) {
  // A later end may have been recorded (by this writer or, after a
  // takeover, another): keep the later one.
  return c.exec(
      "INSERT INTO callq_meta VALUES ('chain-head', $1) ON CONFLICT (key) DO UPDATE "
      "SET value = EXCLUDED.value WHERE substring(callq_meta.value from 1 for 8) < "
      "substring(EXCLUDED.value from 1 for 8)",
      pg_params().bytes(encode_chain_head(head.seq, head.chain)));
}

status postgres_log::record_head() {
  if (read_only_)
    return status::not_supported("the log is open read-only");
  std::lock_guard lock(head_mu_);
  if (last_seq_.load() <= head_seq_)
    return status::ok();
  if (auto st = add_head(*writer_, {last_seq_.load(), last_chain_}); !st)
    return st;
  head_seq_ = last_seq_.load();
  return status::ok();
}

status postgres_log::put_snapshot(uint64_t seq, std::string_view bytes) {
  if (read_only_)
    return status::not_supported("the log is open read-only");
  chain_head head{seq, {}};
  if (auto st = chain_at(seq, &head.chain); !st)
    return st;
  std::lock_guard lock(head_mu_);
  // Runs beside appends (the snapshot writer's thread): its own
  // connection, one transaction.
  return with_reader([&](pg_connection& c) {
    auto fail = [&](status st) {
      c.exec_script("ROLLBACK");
      return st;
    };
    if (auto st = c.exec_script("BEGIN"); !st)
      return st;
    if (auto st = c.exec("INSERT INTO callq_snapshots VALUES ($1, $2) ON CONFLICT (seq) DO UPDATE "
                         "SET bytes = EXCLUDED.bytes",
                         pg_params().i64(static_cast<int64_t>(seq)).bytes(bytes));
        !st)
      return fail(st);
    if (auto st = add_head(c, head); !st)
      return fail(st);
    // Keep the newest keep_snapshots_ (this one included).
    if (auto st = c.exec("DELETE FROM callq_snapshots WHERE seq < $1 AND seq NOT IN "
                         "(SELECT seq FROM callq_snapshots WHERE seq <= $1 ORDER BY seq DESC LIMIT $2)",
                         pg_params().i64(static_cast<int64_t>(seq)).i64(static_cast<int64_t>(keep_snapshots_)));
        !st)
      return fail(st);
    if (auto st = c.exec_script("COMMIT"); !st)
      return st;
    head_seq_ = std::max(head_seq_, seq);
    return status::ok();
  });
}

status postgres_log::snapshot_seqs(std::vector<uint64_t>* newest_first) const {
  newest_first->clear();
  return with_reader([&](pg_connection& c) {
    pg_rows rows;
    if (auto st = c.exec("SELECT seq FROM callq_snapshots ORDER BY seq DESC", {}, &rows); !st)
      return st;
    for (int i = 0; i < rows.count(); ++i)
      newest_first->push_back(static_cast<uint64_t>(rows.i64(i, 0)));
    return status::ok();
  });
}

status postgres_log::get_snapshot(uint64_t seq, std::string* bytes) const {
  return value_at("SELECT bytes FROM callq_snapshots WHERE seq = $1", seq, "snapshot", bytes);
}

}  // namespace callq::storage
