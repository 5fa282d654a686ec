#include "storage/event_log.hpp"

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include "events/codec.hpp"
#include "storage/fault_env.hpp"
#include "storage/record.hpp"
#include "tests/crash_child.hpp"
#include "tests/temp_dir.hpp"

using namespace callq;
using namespace callq::events;
using callq::storage::event_log;
using callq::storage::log_options;

namespace {

// A deterministic event number i: stream alternates over a few calls.
event make_event(uint64_t i) {
  call_announced a;
  a.call_sid = "CA" + std::to_string(i % 5);
  a.position = static_cast<int64_t>(i);
  a.estimated_wait_seconds = static_cast<int64_t>(i * 3);
  return event{static_cast<int64_t>(1700000000000 + i), a};
}

std::unique_ptr<event_log> open_log(const std::string& dir, bool read_only = false) {
  std::unique_ptr<event_log> log;
  log_options o;
  o.read_only = read_only;
  auto st = event_log::open(dir, o, &log);
  INFO(st.to_string());
  REQUIRE(st);
  return log;
}

}  // namespace

TEST_CASE("append assigns gap-free sequence numbers and stream versions") {
  callq::testing::temp_dir tmp;
  auto log = open_log(tmp.path());
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

TEST_CASE("a stream is read through its index, in version order") {
  callq::testing::temp_dir tmp;
  {
    auto log = open_log(tmp.path());
    uint64_t first = 0;
    for (uint64_t i = 0; i < 50; ++i)
      REQUIRE(log->append({make_event(i)}, {}, false, &first));
  }
  auto log = open_log(tmp.path());  // versions continue after reopening
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

TEST_CASE("idempotency entries are written with the events") {
  callq::testing::temp_dir tmp;
  auto log = open_log(tmp.path());
  uint64_t first = 0;
  REQUIRE(log->append({make_event(1)}, {{"token-1", "reply"}}, true, &first));
  std::string v;
  int64_t now = make_event(1).ts_ms;
  REQUIRE(log->get_idempotency("token-1", now, &v));
  CHECK(v == "reply");
  CHECK(log->get_idempotency("token-2", now, &v).is_not_found());
}

TEST_CASE("idempotency entries expire in the log's time and expiry never touches an event") {
  callq::testing::temp_dir tmp;
  std::unique_ptr<event_log> log;
  log_options o;
  o.idempotency_ttl_ms = 60'000;
  REQUIRE(event_log::open(tmp.path(), o, &log));
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

TEST_CASE("bare idempotency keys of a log from before expiry still answer") {
  callq::testing::temp_dir tmp;
  auto log = open_log(tmp.path());
  REQUIRE(log->raw_db()->Put(rocksdb::WriteOptions(), log->raw_idempotency_cf(), "old-token", "old").ok());
  std::string v;
  REQUIRE(log->get_idempotency("old-token", 1LL << 50, &v));
  CHECK(v == "old");
}

TEST_CASE("snapshots are kept newest first, the oldest pruned, the head recorded") {
  callq::testing::temp_dir tmp;
  std::unique_ptr<event_log> log;
  log_options o;
  o.keep_snapshots = 2;
  REQUIRE(event_log::open(tmp.path(), o, &log));
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

TEST_CASE("verify reports a log that ends before its recorded head") {
  callq::testing::temp_dir tmp;
  {
    auto log = open_log(tmp.path());
    uint64_t first = 0;
    for (uint64_t i = 0; i < 12; ++i)
      REQUIRE(log->append({make_event(i)}, {}, false, &first));
  }  // a clean close records the head at 12
  {
    auto log = open_log(tmp.path());
    storage::verify_report rep;
    REQUIRE(log->verify(&rep));
    CHECK(rep.bad_seq == 0);
    CHECK(rep.head_seq == 12);
    // Remove the last three events: the chain of what is left is intact.
    for (uint64_t s : {10, 11, 12})
      REQUIRE(log->raw_db()->Delete(rocksdb::WriteOptions(), log->raw_events_cf(),
                                    storage::seq_key(s)).ok());
  }
  auto log = open_log(tmp.path(), true);
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 10);
  CHECK(rep.events == 9);
  CHECK(rep.problem.find("ends at event 9") != std::string::npos);
  CHECK(rep.problem.find("recorded at event 12") != std::string::npos);
}

TEST_CASE("a directory that is not a callq log is refused") {
  callq::testing::temp_dir tmp;
  std::ofstream(tmp.path() + "/notes.txt") << "hello";
  std::unique_ptr<event_log> log;
  auto st = event_log::open(tmp.path(), {}, &log);
  CHECK_FALSE(st);
  CHECK(st.message().find("not a callq event log") != std::string::npos);

  callq::testing::temp_dir other;
  {
    rocksdb::DB* db = nullptr;
    rocksdb::Options o;
    o.create_if_missing = true;
    REQUIRE(rocksdb::DB::Open(o, other.path(), &db).ok());
    delete db;
  }
  st = event_log::open(other.path(), {}, &log);
  CHECK_FALSE(st);
  CHECK(st.message().find("not a callq event log") != std::string::npos);

  callq::testing::temp_dir missing;
  st = event_log::open(missing.path() + "/nothing", log_options{true, false}, &log);
  CHECK_FALSE(st);
}

TEST_CASE("a log written by a newer format is refused") {
  callq::testing::temp_dir tmp;
  open_log(tmp.path());  // a valid log, then its marker is raised
  {
    rocksdb::DB* db = nullptr;
    std::vector<rocksdb::ColumnFamilyDescriptor> d;
    for (auto n : {"default", "events", "streams", "idempotency", "meta", "snapshots"})
      d.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> h;
    REQUIRE(rocksdb::DB::Open(rocksdb::Options(), tmp.path(), d, &h, &db).ok());
    REQUIRE(db->Put(rocksdb::WriteOptions(), h[4], "format", "callq-event-log/99").ok());
    for (auto* x : h)
      db->DestroyColumnFamilyHandle(x);
    delete db;
  }
  std::unique_ptr<event_log> log;
  auto st = event_log::open(tmp.path(), {}, &log);
  CHECK_FALSE(st);
  CHECK(st.message().find("newer callq") != std::string::npos);
}

TEST_CASE("a second process may read the log while it is open for writing") {
  callq::testing::temp_dir tmp;
  auto writer = open_log(tmp.path());
  uint64_t first = 0;
  REQUIRE(writer->append({make_event(1), make_event(2)}, {}, true, &first));
  auto reader = open_log(tmp.path(), true);
  CHECK(reader->last_seq() == 2);
  CHECK_FALSE(reader->append({make_event(3)}, {}, true, &first));
  REQUIRE(writer->append({make_event(3)}, {}, true, &first));
}

TEST_CASE("the integrity chain catches an edited value") {
  callq::testing::temp_dir tmp;
  auto log = open_log(tmp.path());
  uint64_t first = 0;
  for (uint64_t i = 0; i < 20; ++i)
    REQUIRE(log->append({make_event(i)}, {}, false, &first));
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
  CHECK(rep.events == 20);

  // Change event 7's payload directly in RocksDB, keeping its format valid.
  envelope e;
  REQUIRE(log->get(7, &e));
  std::get<call_announced>(e.ev.body).position = 999;
  std::string body;
  storage::encode_record_body(7, e.stream, e.stream_version, e.ev, body);
  body.append(reinterpret_cast<const char*>(e.chain.data()), 32);
  REQUIRE(log->raw_db()->Put(rocksdb::WriteOptions(), log->raw_events_cf(),
                             storage::seq_key(7), body).ok());
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 7);
  CHECK(rep.events == 6);
}

TEST_CASE("an unknown event type in the log is an error naming the sequence") {
  callq::testing::temp_dir tmp;
  auto log = open_log(tmp.path());
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
  REQUIRE(log->raw_db()->Put(rocksdb::WriteOptions(), log->raw_events_cf(),
                             storage::seq_key(2), body).ok());
  auto st = log->scan(1, [](const envelope&) { return true; });
  CHECK_FALSE(st);
  CHECK(st.message().find("event 2") != std::string::npos);
  CHECK(st.message().find("system.from_the_future") != std::string::npos);
}

TEST_CASE("every acknowledged event survives SIGKILL, byte for byte") {
  callq::testing::temp_dir tmp;
  std::unique_ptr<event_log> child_log;
  uint64_t i = 0;
  uint64_t acked = callq::testing::append_until_killed(
      [&] {
        if (!event_log::open(tmp.path(), {}, &child_log))
          _exit(3);
      },
      [&]() -> uint64_t {
        uint64_t first = 0;
        return child_log->append({make_event(i++)}, {}, true, &first) ? first : 0;
      },
      300);
  REQUIRE(acked >= 300);

  auto log = open_log(tmp.path());
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

TEST_CASE("a full disk fails appends, loses nothing acknowledged, and the next start has it all") {
  callq::testing::temp_dir tmp;
  // The full disk happens in a child: RocksDB cannot resume in-process
  // from a failed WAL write, so the process leaves the log to its next start.
  pid_t pid = fork();
  if (pid == 0) {
    storage::fault_env faults;
    log_options o;
    o.rocksdb_env = faults.env();
    auto* log = new std::unique_ptr<event_log>;  // left to the exit, as a server would
    if (!event_log::open(tmp.path(), o, log))
      _exit(10);
    uint64_t first = 0;
    for (uint64_t i = 0; i < 5; ++i)
      if (!(*log)->append({make_event(i)}, {{"k" + std::to_string(i), "v"}}, true, &first))
        _exit(11);
    faults.fill_disk();
    if ((*log)->append({make_event(5)}, {}, true, &first) || faults.refused() == 0)
      _exit(12);
    if ((*log)->append({make_event(6)}, {}, true, &first) || (*log)->last_seq() != 5)
      _exit(13);
    envelope e;
    if (!(*log)->get(5, &e))  // reads keep working
      _exit(14);
    log->reset();  // must not abort (RocksDB asserts when a failed WAL writer is closed)
    _exit(0);
  }
  int st = 0;
  REQUIRE(waitpid(pid, &st, 0) == pid);
  REQUIRE(WIFEXITED(st));
  REQUIRE(WEXITSTATUS(st) == 0);
  auto log = open_log(tmp.path());
  CHECK(log->last_seq() == 5);
  std::vector<int64_t> positions;
  REQUIRE(log->scan(1, [&](const envelope& e) {
    positions.push_back(std::get<call_announced>(e.ev.body).position);
    return true;
  }));
  CHECK(positions == std::vector<int64_t>{0, 1, 2, 3, 4});
  uint64_t first = 0;
  REQUIRE(log->append({make_event(7)}, {}, true, &first));
  CHECK(first == 6);
  storage::verify_report rep;
  REQUIRE(log->verify(&rep));
  CHECK(rep.bad_seq == 0);
  CHECK(rep.events == 6);
}
