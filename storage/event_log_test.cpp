// The event log's contract (storage/event_log.hpp): one body per test,
// run against both backends (RocksDB in a temporary directory; PostgreSQL
// in a fresh database of the test cluster, tests/pg_database.hpp).
// Backend-specific tests: rocksdb_log_test.cpp, postgres_log_test.cpp.
#include "storage/event_log.hpp"

#include <csignal>
#include <cstdio>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "events/codec.hpp"
#include "storage/record.hpp"
#include "storage/test_backends.hpp"
#include "tests/crash_child.hpp"

using namespace callq;
using namespace callq::events;
using callq::storage::event_log;
using callq::storage::log_options;
using callq::storage::testing::make_event;
using callq::storage::testing::postgres_backend;
using callq::storage::testing::rocksdb_backend;

TEMPLATE_TEST_CASE("append assigns gap-free sequence numbers and stream versions", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  auto log = b.open();
  CHECK(log->last_seq() == 0);
  uint64_t first = 0;
  REQUIRE(log->append({make_event(0), make_event(1), make_event(5)}, {}, true, &first));
  CHECK(first == 1);
  REQUIRE(log->append({make_event(2)}, {}, false, &first));
  CHECK(first == 4);
  CHECK(log->last_seq() == 4);

  std::vector<envelope> all;
  REQUIRE(log->scan(1, [&](const envelope& e) { all.push_back(e); return true; }));
  REQUIRE(all.size() == 4);
  for (size_t i = 0; i < all.size(); ++i)
    CHECK(all[i].seq == i + 1);
  CHECK(all[0].stream == "call/CA0");
  CHECK(all[2].stream == "call/CA0");
  CHECK(all[2].stream_version == 2);
  CHECK(all[1].stream_version == 1);

  std::vector<uint64_t> from3;
  REQUIRE(log->scan(3, [&](const envelope& e) { from3.push_back(e.seq); return true; }));
  CHECK(from3 == std::vector<uint64_t>{3, 4});
}

TEMPLATE_TEST_CASE("pipelined appends complete in order, numbered as if appended one by one", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  auto log = b.open();
  REQUIRE(log->max_in_flight() >= 1);
  uint64_t next = 1, i = 0;
  std::vector<uint64_t> firsts, expected;
  for (int round = 0; round < 5; ++round) {
    for (size_t k = 0; k < log->max_in_flight(); ++k) {
      uint64_t first = 0;
      REQUIRE(log->submit_append({make_event(i), make_event(i + 1)}, {{"key" + std::to_string(i), "v"}}, true,
                                 &first));
      firsts.push_back(first);
      expected.push_back(next);
      next += 2;
      i += 2;
    }
    uint64_t extra = 0;  // no more than max_in_flight() at once
    CHECK_FALSE(log->submit_append({make_event(i)}, {}, true, &extra));
    for (size_t k = 0; k < log->max_in_flight(); ++k)
      REQUIRE(log->complete_append());
    CHECK(log->last_seq() == next - 1);
  }
  CHECK_FALSE(log->complete_append());  // nothing in flight
  CHECK(firsts == expected);
  std::vector<uint64_t> versions;
  REQUIRE(log->read_stream("call/CA3", [&](const envelope& e) { versions.push_back(e.stream_version); return true; }));
  CHECK(versions.size() == i / 5);
  for (size_t k = 0; k < versions.size(); ++k)
    CHECK(versions[k] == k + 1);
  std::string v;
  CHECK(log->get_idempotency("key0", make_event(0).ts_ms, &v));
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
  CHECK(rep.events == i);
}

TEMPLATE_TEST_CASE("the writer knows the versions of the streams it wrote, batches in flight included", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  auto log = b.open();
  uint64_t first = 0, v = 99;
  // CA1 gets events 1 and 6 of make_event's round robin.
  REQUIRE(log->append({make_event(1), make_event(6), make_event(2)}, {}, true, &first));
  REQUIRE(log->known_version("call/CA1", &v));
  CHECK(v == 2);
  REQUIRE(log->submit_append({make_event(11)}, {}, true, &first));
  REQUIRE(log->known_version("call/CA1", &v));  // counted while in flight
  CHECK(v == 3);
  REQUIRE(log->complete_append());
  REQUIRE(log->known_version("call/CA2", &v));
  CHECK(v == 1);
  // A stream nobody wrote: 0 where the writer can tell without a round
  // trip (RocksDB); PostgreSQL's writer does not know it.
  if (log->known_version("call/never", &v))
    CHECK(v == 0);
  else
    CHECK(log->shared());
}

TEMPLATE_TEST_CASE("a finished stream's cached version is let go unless a later batch changed it, and a later append still numbers it right", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  auto log = b.open();
  uint64_t first = 0;
  REQUIRE(log->append({make_event(1), make_event(2)}, {}, true, &first));  // CA1 and CA2 at 1
  size_t cached = log->cached_versions();
  REQUIRE(cached >= 2);
  log->forget_version("call/CA1", 1);
  CHECK(log->cached_versions() == cached - 1);
  log->forget_version("call/CA2", 5);  // not the version it is at: kept
  CHECK(log->cached_versions() == cached - 1);
  REQUIRE(log->submit_append({make_event(7)}, {}, true, &first));  // CA2 at 2, in flight
  log->forget_version("call/CA2", 1);  // the earlier batch's version: kept
  CHECK(log->cached_versions() == cached - 1);
  REQUIRE(log->complete_append());
  uint64_t v = 0;
  REQUIRE(log->known_version("call/CA2", &v));
  CHECK(v == 2);
  // An append to the forgotten stream after all continues its numbering.
  REQUIRE(log->append({make_event(6)}, {}, true, &first));
  std::vector<uint64_t> versions;
  REQUIRE(log->read_stream("call/CA1", [&](const envelope& e) {
    versions.push_back(e.stream_version);
    return true;
  }));
  CHECK(versions == std::vector<uint64_t>{1, 2});
}

TEMPLATE_TEST_CASE("after reopening, the writer knows the stream versions it was told and continues from them", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  {
    auto log = b.open();
    uint64_t first = 0;
    REQUIRE(log->append({make_event(1), make_event(6)}, {}, true, &first));  // CA1 at version 2
  }
  auto log = b.open();
  log->learn_versions({{"call/CA1", 2}});  // what a rebuild of the log found
  uint64_t v = 99, first = 0;
  REQUIRE(log->known_version("call/CA1", &v));  // PostgreSQL's writer knew nothing before
  CHECK(v == 2);
  REQUIRE(log->append({make_event(11)}, {}, true, &first));
  REQUIRE(log->known_version("call/CA1", &v));
  CHECK(v == 3);
  std::vector<uint64_t> versions;
  REQUIRE(log->read_stream("call/CA1", [&](const envelope& e) {
    versions.push_back(e.stream_version);
    return true;
  }));
  CHECK(versions == std::vector<uint64_t>{1, 2, 3});
}

TEMPLATE_TEST_CASE("a stream is read through its index, in version order", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  {
    auto log = b.open();
    uint64_t first = 0;
    for (uint64_t i = 0; i < 50; ++i)
      REQUIRE(log->append({make_event(i)}, {}, false, &first));
  }
  auto log = b.open();  // versions continue after reopening
  uint64_t first = 0;
  REQUIRE(log->append({make_event(50)}, {}, true, &first));
  std::vector<uint64_t> versions;
  std::vector<int64_t> positions;
  REQUIRE(log->read_stream("call/CA0", [&](const envelope& e) {
    versions.push_back(e.stream_version);
    positions.push_back(std::get<call_announced>(e.ev.body).position);
    return true;
  }));
  REQUIRE(versions.size() == 11);
  for (size_t i = 0; i < versions.size(); ++i) {
    CHECK(versions[i] == i + 1);
    CHECK(positions[i] == static_cast<int64_t>(i) * 5);
  }
  int n = 0;
  REQUIRE(log->read_stream("call/CA", [&](const envelope&) { ++n; return true; }));
  CHECK(n == 0);  // a prefix of another stream's name is not that stream
}

TEMPLATE_TEST_CASE("idempotency entries are written with the events", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  auto log = b.open();
  uint64_t first = 0;
  REQUIRE(log->append({make_event(1)}, {{"token-1", "reply"}}, true, &first));
  std::string v;
  int64_t now = make_event(1).ts_ms;
  REQUIRE(log->get_idempotency("token-1", now, &v));
  CHECK(v == "reply");
  CHECK(log->get_idempotency("token-2", now, &v).is_not_found());
}

TEMPLATE_TEST_CASE("idempotency entries expire in the log's time and expiry never touches an event", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  std::unique_ptr<event_log> log;
  log_options o;
  o.idempotency_ttl_ms = 60'000;
  log = b.open(false, o);
  uint64_t first = 0;
  event early = make_event(1), late = make_event(2);
  late.ts_ms = early.ts_ms + 30'000;
  REQUIRE(log->append({early}, {{"early", "a"}}, true, &first));
  REQUIRE(log->append({late}, {{"late", "b"}}, true, &first));
  std::string v;
  // Virtual time: one millisecond before the time to live passes...
  CHECK(log->get_idempotency("early", early.ts_ms + 59'999, &v));
  uint64_t removed = 0;
  REQUIRE(log->expire_idempotency(early.ts_ms + 59'999, &removed));
  CHECK(removed == 0);
  // ...and at it: the early key no longer answers; the late one does.
  CHECK(log->get_idempotency("early", early.ts_ms + 60'000, &v).is_not_found());
  CHECK(log->get_idempotency("late", early.ts_ms + 60'000, &v));
  REQUIRE(log->expire_idempotency(early.ts_ms + 60'000, &removed));
  CHECK(removed == 1);
  // Gone from the store, even for a reader whose clock is earlier.
  CHECK(log->get_idempotency("early", early.ts_ms, &v).is_not_found());
  CHECK(log->get_idempotency("late", early.ts_ms, &v));
  REQUIRE(log->expire_idempotency(late.ts_ms + 60'000, &removed));
  CHECK(removed == 1);
  // The events are all there and the chain is intact.
  int n = 0;
  REQUIRE(log->scan(1, [&](const envelope&) { ++n; return true; }));
  CHECK(n == 2);
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
  CHECK(rep.events == 2);
}

TEMPLATE_TEST_CASE("snapshots are kept newest first, the oldest pruned, the head recorded", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  std::unique_ptr<event_log> log;
  log_options o;
  o.keep_snapshots = 2;
  log = b.open(false, o);
  uint64_t first = 0;
  for (uint64_t i = 0; i < 10; ++i)
    REQUIRE(log->append({make_event(i)}, {}, false, &first));
  REQUIRE(log->put_snapshot(3, "three"));
  REQUIRE(log->put_snapshot(6, "six"));
  REQUIRE(log->put_snapshot(9, "nine"));
  std::vector<uint64_t> seqs;
  REQUIRE(log->snapshot_seqs(&seqs));
  CHECK(seqs == std::vector<uint64_t>{9, 6});
  std::string bytes;
  REQUIRE(log->get_snapshot(6, &bytes));
  CHECK(bytes == "six");
  CHECK(log->get_snapshot(3, &bytes).is_not_found());
  storage::chain_head head;
  REQUIRE(log->recorded_head(&head));
  CHECK(head.seq == 9);
  events::chain_value c9{};
  REQUIRE(log->chain_at(9, &c9));
  CHECK(head.chain == c9);
  // An older snapshot written late never moves the head back.
  REQUIRE(log->put_snapshot(4, "four"));
  REQUIRE(log->recorded_head(&head));
  CHECK(head.seq == 9);
}

namespace {

/// The stored bytes of `e` as event `seq`: its record body, then its chain
/// value as recorded or, given `prev`, the value that follows `prev` (as a
/// forger who chains the record again would write it).
std::string stored_record(uint64_t seq, const envelope& e, const chain_value* prev = nullptr) {
  std::string body;
  storage::encode_record_body(seq, e.stream, e.stream_version, e.ev, body);
  chain_value chain = prev != nullptr ? storage::chain_next(*prev, body) : e.chain;
  body.append(reinterpret_cast<const char*>(chain.data()), chain.size());
  return body;
}

/// Appends events 1 to `n` to a new log of `b` and closes it (a clean
/// close records the head at `n`).
template <class Backend> void write_and_close(Backend& b, uint64_t n) {
  auto log = b.open();
  uint64_t first = 0;
  for (uint64_t i = 0; i < n; ++i)
    REQUIRE(log->append({make_event(i)}, {}, false, &first));
}

}  // namespace

TEMPLATE_TEST_CASE("verify reports a log that ends before its recorded head", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  write_and_close(b, 12);  // a clean close records the head at 12
  {
    auto log = b.open();
    storage::verify_report rep;
    REQUIRE(log->verify(&rep));
    CHECK(rep.bad_seq == 0);
    CHECK(rep.head_seq == 12);
    // Remove the last three events: the chain of what is left is intact.
    for (uint64_t s : {10, 11, 12})
      b.remove_event(*log, s);
  }
  auto log = b.open(true);
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 10);
  CHECK(rep.events == 9);
  CHECK(rep.problem.find("ends at event 9") != std::string::npos);
  CHECK(rep.problem.find("recorded at event 12") != std::string::npos);
}

TEMPLATE_TEST_CASE("a second process may read the log while it is open for writing", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  auto writer = b.open();
  uint64_t first = 0;
  REQUIRE(writer->append({make_event(1), make_event(2)}, {}, true, &first));
  auto reader = b.open(true);
  CHECK(reader->last_seq() == 2);
  CHECK_FALSE(reader->append({make_event(3)}, {}, true, &first));
  REQUIRE(writer->append({make_event(3)}, {}, true, &first));
}

TEMPLATE_TEST_CASE("the integrity chain catches an edited value", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  auto log = b.open();
  uint64_t first = 0;
  for (uint64_t i = 0; i < 20; ++i)
    REQUIRE(log->append({make_event(i)}, {}, false, &first));
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
  CHECK(rep.events == 20);

  // Change event 7's payload behind the log's back, keeping its format valid.
  envelope e;
  REQUIRE(log->get(7, &e));
  std::get<call_announced>(e.ev.body).position = 999;
  b.overwrite_event(*log, 7, stored_record(7, e));
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 7);
  CHECK(rep.events == 6);
}

TEMPLATE_TEST_CASE("an unknown event type in the log is an error naming the sequence", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  auto log = b.open();
  uint64_t first = 0;
  REQUIRE(log->append({make_event(1)}, {}, true, &first));
  // Forge event 2 with a type name this build does not know.
  std::string body;
  body.push_back(1);
  put_varint(body, 2);
  put_string(body, "system");
  put_varint(body, 1);
  put_string(body, "system.from_the_future");
  put_varint(body, 1);
  put_varint(body, 0);
  put_string(body, "");
  body.append(32, '\0');
  b.overwrite_event(*log, 2, body);
  auto st = log->scan(1, [](const envelope&) { return true; });
  CHECK_FALSE(st);
  CHECK(st.message().find("event 2") != std::string::npos);
  CHECK(st.message().find("system.from_the_future") != std::string::npos);
  CHECK(st.error_code() == status::code::not_supported);  // a newer build's, not damage
}

TEMPLATE_TEST_CASE("verify names each kind of damage: a gap, a moved record, a lost last event, a rewritten tail", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  write_and_close(b, 12);  // a clean close records the head at 12
  auto check = [&](uint64_t bad_seq, const std::string& says) {
    auto log = b.open(true);
    storage::verify_report rep;
    REQUIRE(log->verify(&rep));
    CHECK(rep.bad_seq == bad_seq);
    INFO(rep.problem);
    CHECK(rep.problem.find(says) != std::string::npos);
  };
  SECTION("the last event alone removed") {
    { auto log = b.open(); b.remove_event(*log, 12); }
    check(12, "ends at event 11");
  }
  SECTION("the tail rewritten with a chain of its own") {
    {
      auto log = b.open();
      envelope e11, e12;
      REQUIRE(log->get(11, &e11));
      REQUIRE(log->get(12, &e12));
      std::get<call_announced>(e12.ev.body).position = 999;
      b.overwrite_event(*log, 12, stored_record(12, e12, &e11.chain));
    }
    check(12, "the log was rewritten");
  }
  SECTION("an event in the middle removed") {
    { auto log = b.open(); b.remove_event(*log, 5); }
    check(5, "event 5 is missing");
  }
  SECTION("a record copied under another sequence") {
    {
      auto log = b.open();
      envelope e9;
      REQUIRE(log->get(9, &e9));
      b.overwrite_event(*log, 8, stored_record(9, e9));
    }
    check(8, "record holds sequence 9 under key 8");
  }
}

TEMPLATE_TEST_CASE("every acknowledged event survives SIGKILL, byte for byte", "[contract]", rocksdb_backend, postgres_backend) {
  TestType b;
  std::unique_ptr<event_log> child_log;
  uint64_t i = 0;
  uint64_t acked = callq::testing::append_until_killed(
      [&] {
        if (!b.try_open(&child_log))
          _exit(3);
      },
      [&]() -> uint64_t {
        uint64_t first = 0;
        return child_log->append({make_event(i++)}, {}, true, &first) ? first : 0;
      },
      300);
  REQUIRE(acked >= 300);

  auto log = b.open();
  REQUIRE(log->last_seq() >= acked);
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
  uint64_t n = 0;
  REQUIRE(log->scan(1, [&](const envelope& e) {
    if (e.seq > acked)
      return false;
    auto want = make_event(e.seq - 1);
    CHECK(e.ev.ts_ms == want.ts_ms);
    std::string a, b;
    encode_payload(e.ev.body, a);
    encode_payload(want.body, b);
    CHECK(a == b);
    ++n;
    return true;
  }));
  CHECK(n == acked);
}

