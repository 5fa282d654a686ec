// RocksDB backend specifics (the shared contract: event_log_test.cpp).
#include "storage/rocksdb_log.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include "events/codec.hpp"
#include "storage/fault_env.hpp"
#include "storage/record.hpp"
#include "storage/test_backends.hpp"
#include "tests/temp_dir.hpp"

using namespace callq;
using namespace callq::events;
using callq::storage::event_log;
using callq::storage::log_options;
using callq::storage::rocksdb_log;
using callq::storage::testing::make_event;

namespace {

std::unique_ptr<rocksdb_log> open_log(const std::string& dir, bool read_only = false) {
  std::unique_ptr<rocksdb_log> log;
  log_options o;
  o.read_only = read_only;
  auto st = rocksdb_log::open(dir, o, &log);
  INFO(st.to_string());
  REQUIRE(st);
  return log;
}

/// Runs `f` on the log in `dir` opened as a bare RocksDB database, its
/// column families' handles in the log's order.
void with_raw_db(const std::string& dir,
                 const std::function<void(rocksdb::DB*, const std::vector<rocksdb::ColumnFamilyHandle*>&)>& f) {
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyDescriptor> d;
  for (auto n : {"default", "events", "streams", "idempotency", "meta", "snapshots"})
    d.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> h;
  REQUIRE(rocksdb::DB::Open(rocksdb::Options(), dir, d, &h, &db).ok());
  f(db, h);
  for (auto* x : h)
    db->DestroyColumnFamilyHandle(x);
  delete db;
}

}  // namespace

TEST_CASE("bare idempotency keys of a log from before expiry still answer") {
  callq::testing::temp_dir tmp;
  auto log = open_log(tmp.path());
  REQUIRE(log->raw_db()->Put(rocksdb::WriteOptions(), log->raw_idempotency_cf(), "old-token", "old").ok());
  std::string v;
  REQUIRE(log->get_idempotency("old-token", 1LL << 50, &v));
  CHECK(v == "old");
}

TEST_CASE("a directory that is not a callq log is refused") {
  callq::testing::temp_dir tmp;
  std::ofstream(tmp.path() + "/notes.txt") << "hello";
  std::unique_ptr<rocksdb_log> log;
  auto st = rocksdb_log::open(tmp.path(), {}, &log);
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
  st = rocksdb_log::open(other.path(), {}, &log);
  CHECK_FALSE(st);
  CHECK(st.message().find("not a callq event log") != std::string::npos);

  callq::testing::temp_dir missing;
  st = rocksdb_log::open(missing.path() + "/nothing", log_options{true, false}, &log);
  CHECK_FALSE(st);
}

TEST_CASE("a log written by a newer format is refused") {
  callq::testing::temp_dir tmp;
  open_log(tmp.path());  // a valid log, then its marker is raised
  with_raw_db(tmp.path(), [](rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& h) {
    REQUIRE(db->Put(rocksdb::WriteOptions(), h[4], "format", "callq-event-log/99").ok());
  });
  std::unique_ptr<rocksdb_log> log;
  auto st = rocksdb_log::open(tmp.path(), {}, &log);
  CHECK_FALSE(st);
  CHECK(st.message().find("newer callq") != std::string::npos);
}

TEST_CASE("snapshots are listed from meta's index, which a log from before it gains at its first read-write open") {
  callq::testing::temp_dir tmp;
  {
    auto log = open_log(tmp.path());
    uint64_t first = 0;
    for (uint64_t i = 0; i < 10; ++i)
      REQUIRE(log->append({make_event(i)}, {}, false, &first));
    REQUIRE(log->put_snapshot(3, "three"));
    REQUIRE(log->put_snapshot(6, "six"));
  }
  // The index, not the snapshots' own keys: a snapshot removed behind the
  // log's back is still listed (and reads as not found).
  {
    auto log = open_log(tmp.path());
    REQUIRE(log->raw_db()->Delete(rocksdb::WriteOptions(), log->raw_snapshots_cf(), storage::seq_key(3)).ok());
    std::vector<uint64_t> seqs;
    REQUIRE(log->snapshot_seqs(&seqs));
    CHECK(seqs == std::vector<uint64_t>{6, 3});
    std::string bytes;
    CHECK(log->get_snapshot(3, &bytes).is_not_found());
    REQUIRE(log->raw_db()->Put(rocksdb::WriteOptions(), log->raw_snapshots_cf(), storage::seq_key(3), "three").ok());
  }
  // A log from before the index: meta holds no entry and no marker.
  with_raw_db(tmp.path(), [](rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& h) {
    for (const std::string& k : {std::string("snapshot-index"), "snapshot/" + storage::seq_key(3),
                                "snapshot/" + storage::seq_key(6)})
      REQUIRE(db->Delete(rocksdb::WriteOptions(), h[4], k).ok());
  });
  std::vector<uint64_t> seqs;
  {
    auto log = open_log(tmp.path(), true);  // read-only: lists the snapshots themselves
    REQUIRE(log->snapshot_seqs(&seqs));
    CHECK(seqs == std::vector<uint64_t>{6, 3});
  }
  {
    auto log = open_log(tmp.path());  // read-write: writes the index
    REQUIRE(log->snapshot_seqs(&seqs));
    CHECK(seqs == std::vector<uint64_t>{6, 3});
    // From now on the index is what lists them.
    REQUIRE(log->raw_db()->Delete(rocksdb::WriteOptions(), log->raw_snapshots_cf(), storage::seq_key(6)).ok());
    REQUIRE(log->snapshot_seqs(&seqs));
    CHECK(seqs == std::vector<uint64_t>{6, 3});
    // A new snapshot and the pruning of the oldest (three kept) go into
    // the index in the snapshot's own batch.
    REQUIRE(log->put_snapshot(8, "eight"));
    REQUIRE(log->put_snapshot(9, "nine"));
    REQUIRE(log->snapshot_seqs(&seqs));
    CHECK(seqs == std::vector<uint64_t>{9, 8, 6});
  }
  auto log = open_log(tmp.path(), true);
  REQUIRE(log->snapshot_seqs(&seqs));
  CHECK(seqs == std::vector<uint64_t>{9, 8, 6});
}

TEST_CASE("compactions held at open wait for start_background_work(), and only in write mode") {
  callq::testing::temp_dir tmp;
  open_log(tmp.path());
  auto compactions_off = [](rocksdb_log& log) {
    return log.raw_db()->GetOptions(log.raw_events_cf()).disable_auto_compactions;
  };
  {
    auto log = open_log(tmp.path());
    CHECK_FALSE(compactions_off(*log));  // not asked to hold them
  }
  log_options o;
  o.defer_background_work = true;
  {
    // A log this small: nothing worth holding.
    std::unique_ptr<rocksdb_log> small;
    REQUIRE(rocksdb_log::open(tmp.path(), o, &small));
    CHECK_FALSE(compactions_off(*small));
  }
  o.defer_from_table_bytes = 0;
  std::unique_ptr<rocksdb_log> log;
  REQUIRE(rocksdb_log::open(tmp.path(), o, &log));
  CHECK(compactions_off(*log));
  log->start_background_work();
  CHECK_FALSE(compactions_off(*log));
  log->start_background_work();  // once is enough; again changes nothing
  CHECK_FALSE(compactions_off(*log));
}

TEST_CASE("a log whose creation a power loss cut short is created again at the next start") {
  // The power goes off at each file write of a new log's creation in turn
  // (RocksDB's files, options, column families, the format marker). Each
  // time in a child: a log whose writes failed is left open until its
  // process exits. The next start must create the log, not refuse it.
  // (Before the creation marker, a cut after RocksDB's CURRENT file was
  // written left a log without its column families or its format marker,
  // refused at every start after.)
  size_t cut = 0;
  bool completed = false;
  for (uint64_t n = 1; n <= 200 && !completed; ++n) {
    INFO("the power goes off at write " << n);
    callq::testing::temp_dir tmp;
    pid_t pid = fork();
    if (pid == 0) {
      std::freopen("/dev/null", "w", stderr);  // RocksDB's assertion text, below
      auto* faults = new storage::fault_env;  // left to the exit
      faults->power_off_after_writes(n);
      log_options o;
      o.rocksdb_env = faults->env();
      auto* log = new std::unique_ptr<rocksdb_log>;
      bool opened = static_cast<bool>(rocksdb_log::open(tmp.path(), o, log));
      if (opened && !faults->powered_off())
        _exit(0);  // the creation took fewer writes
      faults->lose_unsynced();
      _exit(opened ? 1 : 2);
    }
    int st = 0;
    REQUIRE(waitpid(pid, &st, 0) == pid);
    // At some writes RocksDB (Debian builds it with assertions) aborts on
    // its own: a crash at that moment, which the next start must survive
    // as well (the unsynced bytes then stay).
    bool aborted = WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT;
    REQUIRE((WIFEXITED(st) || aborted));
    completed = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    cut += aborted || WEXITSTATUS(st) == 2;
    std::unique_ptr<rocksdb_log> log;
    auto opened = rocksdb_log::open(tmp.path(), {}, &log);
    INFO(opened.to_string());
    REQUIRE(opened);
    CHECK(log->last_seq() == 0);
    uint64_t first = 0;
    REQUIRE(log->append({make_event(0)}, {}, true, &first));
    CHECK(first == 1);
    CHECK_FALSE(std::filesystem::exists(tmp.path() + "/CALLQ-CREATING"));
  }
  CHECK(completed);
  CHECK(cut >= 5);  // the creation was cut at many points, not only one
}

TEST_CASE("a log whose creation was interrupted is not opened for reading, and a complete one is never emptied") {
  callq::testing::temp_dir tmp;
  open_log(tmp.path());
  std::ofstream(tmp.path() + "/CALLQ-CREATING");  // as a cut creation leaves it
  std::unique_ptr<rocksdb_log> log;
  auto st = rocksdb_log::open(tmp.path(), log_options{true, false}, &log);
  CHECK_FALSE(st);
  CHECK(st.message().find("creation was interrupted") != std::string::npos);

  callq::testing::temp_dir done;
  {
    auto w = open_log(done.path());
    uint64_t first = 0;
    REQUIRE(w->append({make_event(0)}, {}, true, &first));
  }
  CHECK_FALSE(std::filesystem::exists(done.path() + "/CALLQ-CREATING"));
  CHECK(open_log(done.path())->last_seq() == 1);  // reopened: kept, not created again
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
    auto* log = new std::unique_ptr<rocksdb_log>;  // left to the exit, as a server would
    if (!rocksdb_log::open(tmp.path(), o, log))
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
