// PostgreSQL backend specifics (the shared contract: event_log_test.cpp):
// what it refuses to open, fencing, a writer whose connection the server
// dropped, and pipelined appends (a wrong guess of a stream's version, a
// batch that fails with others behind it).
#include "storage/postgres_log.hpp"

#include <catch2/catch.hpp>

#include "storage/test_backends.hpp"
#include "tests/pg_database.hpp"

using namespace callq;
using callq::storage::event_log;
using callq::storage::log_options;
using callq::storage::postgres_log;
using callq::storage::testing::make_event;
using callq::storage::testing::postgres_backend;

namespace {

int64_t count_events(const std::string& url) {
  std::unique_ptr<postgres_log> log;
  log_options ro;
  ro.read_only = true;
  REQUIRE(postgres_log::open(url, ro, &log));
  int64_t n = 0;
  REQUIRE(log->scan(1, [&](const events::envelope&) { return ++n, true; }));
  return n;
}

/// `log`'s chain is whole over exactly `events` events.
void check_whole(const event_log& log, uint64_t events) {
  storage::verify_report rep;
  REQUIRE(log.verify(&rep));
  CHECK(rep.bad_seq == 0);
  CHECK(rep.events == events);
}

}  // namespace

TEST_CASE("postgres: a database holding no log, or one of a newer format, is refused") {
  postgres_backend b;
  std::unique_ptr<postgres_log> log;
  log_options ro;
  ro.read_only = true;
  auto st = postgres_log::open(b.url(), ro, &log);
  CHECK(st.is_not_found());
  CHECK(st.message().find("holds no callq event log") != std::string::npos);
  CHECK(st.message().find("callq@127.0.0.1") != std::string::npos);
  REQUIRE(postgres_log::open(b.url(), {}, &log));  // creates it
  log.reset();
  REQUIRE(callq::testing::pg_run(b.url(), "UPDATE callq_meta SET value = 'callq-event-log/99'::bytea "
                                          "WHERE key = 'format'"));
  st = postgres_log::open(b.url(), {}, &log);
  CHECK_FALSE(st);
  CHECK(st.message().find("newer callq") != std::string::npos);
  std::unique_ptr<event_log> any;
  st = event_log::open_store("mysql://somewhere", "", {}, &any);
  CHECK_FALSE(st);
  CHECK(st.message().find("postgresql://") != std::string::npos);
}

TEST_CASE("postgres: a writer whose leadership epoch is over is refused and changes nothing") {
  postgres_backend b;
  std::unique_ptr<postgres_log> log;
  REQUIRE(postgres_log::open(b.url(), {}, &log));
  REQUIRE(callq::testing::pg_run(b.url(), "UPDATE callq_leader SET epoch = 7"));
  log->fence_with(7);
  uint64_t first = 0;
  REQUIRE(log->append({make_event(0), make_event(1)}, {{"k1", "v"}}, true, &first));
  CHECK(first == 1);
  // Another writer takes over: the epoch moves on.
  REQUIRE(callq::testing::pg_run(b.url(), "UPDATE callq_leader SET epoch = 8"));
  auto st = log->append({make_event(2)}, {{"k2", "v"}}, true, &first);
  CHECK(st.is_fenced());
  CHECK(st.message().find("epoch 7") != std::string::npos);
  CHECK(log->last_seq() == 2);
  CHECK(count_events(b.url()) == 2);
  std::string v;
  CHECK(log->get_idempotency("k2", make_event(2).ts_ms, &v).is_not_found());
  // A writer holding the new epoch appends after the old one's events.
  std::unique_ptr<postgres_log> next;
  REQUIRE(postgres_log::open(b.url(), {}, &next));
  next->fence_with(8);
  REQUIRE(next->append({make_event(2)}, {}, true, &first));
  CHECK(first == 3);
  check_whole(*next, 3);
}

TEST_CASE("postgres: after the server dropped the writer's connection, resume() reconnects and the log goes on") {
  postgres_backend b;
  std::unique_ptr<postgres_log> log;
  REQUIRE(postgres_log::open(b.url(), {}, &log));
  uint64_t first = 0;
  REQUIRE(log->append({make_event(0)}, {}, true, &first));
  std::string db = b.url().substr(b.url().rfind('/') + 1);
  REQUIRE(callq::testing::pg_run(callq::testing::pg_cluster_url(),
                                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = '" + db + "' AND pid <> pg_backend_pid()"));
  CHECK_FALSE(log->append({make_event(1)}, {}, true, &first));
  CHECK(log->last_seq() == 1);
  REQUIRE(log->resume());
  REQUIRE(log->append({make_event(1)}, {}, true, &first));
  CHECK(first == 2);
  check_whole(*log, 2);
}

TEST_CASE("postgres: a pipelined batch that guessed a stream's version wrong is sent again with the one behind it") {
  postgres_backend b;
  std::unique_ptr<postgres_log> log;
  REQUIRE(postgres_log::open(b.url(), {}, &log));
  uint64_t first = 0;
  for (uint64_t i = 0; i < 10; ++i)  // two events in each of call/CA0..CA4
    REQUIRE(log->append({make_event(i)}, {}, true, &first));
  REQUIRE(postgres_log::open(b.url(), {}, &log));  // a new writer: it knows no stream
  REQUIRE(log->max_in_flight() == 2);
  // call/CA0 is taken to be new (version 1), which the log refuses; the
  // batch behind it follows from that guess.
  REQUIRE(log->submit_append({make_event(10)}, {}, true, &first));
  CHECK(first == 11);
  REQUIRE(log->submit_append({make_event(15), make_event(11)}, {{"k", "v"}}, true, &first));
  CHECK(first == 12);
  REQUIRE(log->complete_append());
  REQUIRE(log->complete_append());
  CHECK(log->last_seq() == 13);
  std::vector<uint64_t> versions;
  REQUIRE(log->read_stream("call/CA0", [&](const events::envelope& e) {
    versions.push_back(e.stream_version);
    return true;
  }));
  CHECK(versions == std::vector<uint64_t>{1, 2, 3, 4});
  check_whole(*log, 13);
}

TEST_CASE("postgres: when a pipelined batch fails, the one behind it fails too and writes nothing") {
  postgres_backend b;
  std::unique_ptr<postgres_log> log;
  REQUIRE(postgres_log::open(b.url(), {}, &log));
  uint64_t first = 0;
  REQUIRE(log->append({make_event(0)}, {}, true, &first));
  // Something else wrote sequence 2 behind the writer's back: the next
  // batch (2 and 3) is refused, so 3 is never written.
  REQUIRE(callq::testing::pg_run(b.url(), "INSERT INTO callq_events SELECT 2, stream, 9, record "
                                          "FROM callq_events WHERE seq = 1"));
  REQUIRE(log->submit_append({make_event(1), make_event(2)}, {}, true, &first));
  CHECK(first == 2);
  REQUIRE(log->submit_append({make_event(3)}, {{"k", "v"}}, true, &first));
  CHECK(first == 4);
  auto st = log->complete_append();
  CHECK_FALSE(st);
  auto behind = log->complete_append();
  CHECK_FALSE(behind);
  CHECK(behind.message() == st.message());
  CHECK(log->last_seq() == 1);
  CHECK(count_events(b.url()) == 2);  // 1 and the stranger's 2; nothing at 4
  std::string v;
  CHECK(log->get_idempotency("k", make_event(3).ts_ms, &v).is_not_found());
  REQUIRE(log->resume());
  CHECK(log->last_seq() == 2);
}
