// The two backends as test fixtures, so that one test body checks the
// event log's contract on both (event_log_test.cpp): each opens logs in
// a place of its own (a temporary directory; a fresh PostgreSQL database
// of the test cluster) and can damage a stored record behind the log's
// back, as an attacker or a broken disk would.
#pragma once

#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include "events/event.hpp"
#include "storage/event_log.hpp"
#include "storage/record.hpp"
#include "storage/rocksdb_log.hpp"
#include "tests/pg_database.hpp"
#include "tests/temp_dir.hpp"

namespace callq::storage::testing {

/// A deterministic event number i: the stream cycles over five calls.
inline events::event make_event(uint64_t i) {
  events::call_announced a;
  a.call_sid = "CA" + std::to_string(i % 5);
  a.position = static_cast<int64_t>(i);
  a.estimated_wait_seconds = static_cast<int64_t>(i * 3);
  return events::event{static_cast<int64_t>(1700000000000 + i), a};
}

/// What both fixtures share: open() through the fixture's try_open().
template <class Backend> class backend_base {
 public:
  /// Opens the log (REQUIREs success).
  std::unique_ptr<event_log> open(bool read_only = false, log_options o = {}) {
    std::unique_ptr<event_log> log;
    o.read_only = read_only;
    auto st = static_cast<Backend*>(this)->try_open(&log, o);
    INFO(st.to_string());
    REQUIRE(st);
    return log;
  }
};

/// The RocksDB log in a temporary directory.
class rocksdb_backend : public backend_base<rocksdb_backend> {
 public:
  status try_open(std::unique_ptr<event_log>* out, const log_options& o = {}) {
    std::unique_ptr<rocksdb_log> log;
    auto st = rocksdb_log::open(tmp_.path(), o, &log);
    if (st)
      *out = std::move(log);
    return st;
  }
  /// Deletes event `seq` through `log`'s database.
  void remove_event(event_log& log, uint64_t seq) {
    auto& r = dynamic_cast<rocksdb_log&>(log);
    REQUIRE(r.raw_db()->Delete(rocksdb::WriteOptions(), r.raw_events_cf(), seq_key(seq)).ok());
  }
  /// Replaces the stored bytes of event `seq`.
  void overwrite_event(event_log& log, uint64_t seq, const std::string& value) {
    auto& r = dynamic_cast<rocksdb_log&>(log);
    REQUIRE(r.raw_db()->Put(rocksdb::WriteOptions(), r.raw_events_cf(), seq_key(seq), value).ok());
  }

 private:
  callq::testing::temp_dir tmp_;
};

/// The PostgreSQL log in a fresh database of the test cluster.
class postgres_backend : public backend_base<postgres_backend> {
 public:
  postgres_backend() {
    std::string why;
    url_ = callq::testing::new_pg_database(&why);
    INFO(why);
    REQUIRE_FALSE(url_.empty());
  }
  status try_open(std::unique_ptr<event_log>* out, const log_options& o = {}) {
    return event_log::open_store(url_, "", o, out);
  }
  void remove_event(event_log&, uint64_t seq) {
    REQUIRE(callq::testing::pg_run(url_, "DELETE FROM callq_events WHERE seq = " + std::to_string(seq)));
  }
  void overwrite_event(event_log&, uint64_t seq, const std::string& value) {
    std::string hex;
    static const char* digits = "0123456789abcdef";
    for (unsigned char c : value) {
      hex += digits[c >> 4];
      hex += digits[c & 15];
    }
    // Insert when absent (a forged event), under a version no stream uses.
    std::string n = std::to_string(seq);
    REQUIRE(callq::testing::pg_run(
        url_, "INSERT INTO callq_events (seq, stream, version, record) VALUES (" + n +
                  ", 'forged'::bytea, -" + n + ", '\\x" + hex +
                  "'::bytea) ON CONFLICT (seq) DO UPDATE SET record = EXCLUDED.record"));
  }
  const std::string& url() const { return url_; }

 private:
  std::string url_;
};

}  // namespace callq::storage::testing
