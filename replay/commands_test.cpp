#include "replay/commands.hpp"

#include <fstream>
#include <sstream>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <rocksdb/db.h>

#include "events/codec.hpp"
#include "replay/export.hpp"
#include "actors/world/rebuild.hpp"
#include "actors/world/snapshot.hpp"
#include "storage/record.hpp"
#include "storage/rocksdb_log.hpp"
#include "tests/crash_child.hpp"
#include "tests/scenario_log.hpp"
#include "tests/temp_dir.hpp"

using namespace callq;
using namespace callq::replay;

#ifndef CALLQ_TESTDATA
#error "CALLQ_TESTDATA must name replay/testdata"
#endif

namespace {

struct ran {
  int code;
  std::string out, err;
};

ran export_to_string(const std::string& dir, const std::string& format, bool redact = false) {
  export_args a;
  a.data_dir = dir;
  a.format = format;
  a.redact_phone = redact;
  std::ostringstream out, err;
  int code = run_export(a, out, err);
  return {code, out.str(), err.str()};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Compares with a golden file; CALLQ_UPDATE_GOLDEN=1 rewrites it.
void check_golden(const std::string& name, const std::string& actual) {
  std::string path = std::string(CALLQ_TESTDATA) + "/" + name;
  if (std::getenv("CALLQ_UPDATE_GOLDEN") != nullptr)
    std::ofstream(path) << actual;
  INFO("golden file " << path);
  CHECK(read_file(path) == actual);
}

std::vector<std::vector<std::string>> split_lines(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
      auto bar = line.find('|', start);
      fields.push_back(line.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
      if (bar == std::string::npos)
        break;
      start = bar + 1;
    }
    rows.push_back(fields);
  }
  return rows;
}

const std::vector<std::string>* find_row(const std::vector<std::vector<std::string>>& rows,
                                         const std::string& callid, const std::string& event) {
  for (auto& r : rows)
    if (r.size() > 4 && r[1] == callid && r[4] == event)
      return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("exports of the scripted scenario match their golden files") {
  callq::testing::temp_dir tmp;
  REQUIRE_FALSE(callq::testing::write_scenario(tmp.path()).empty());
  for (auto fmt : {"jsonl", "csv", "queue_log"}) {
    auto r = export_to_string(tmp.path(), fmt);
    REQUIRE(r.code == 0);
    check_golden(std::string("scenario.") + fmt, r.out);
  }
  auto redacted = export_to_string(tmp.path(), "jsonl", true);
  CHECK(redacted.out.find("+15551230001") == std::string::npos);
  CHECK(redacted.out.find("+1******0001") != std::string::npos);
  CHECK(redacted.out.find("+44******0123") != std::string::npos);
  CHECK(redact_phone("+447700900123") == "+44******0123");
  CHECK(redact_phone("client:alice") == "client:alice");
}

TEST_CASE("queue_log lines carry hold, talk, ring, positions and wait, field by field") {
  callq::testing::temp_dir tmp;
  REQUIRE_FALSE(callq::testing::write_scenario(tmp.path()).empty());
  auto rows = split_lines(export_to_string(tmp.path(), "queue_log").out);
  const int64_t t0 = 1'795'608'000;

  auto* enter = find_row(rows, "CA1", "ENTERQUEUE");
  REQUIRE(enter);
  CHECK(*enter == std::vector<std::string>{std::to_string(t0 + 2), "CA1", "support", "NONE",
                                           "ENTERQUEUE", "", "+15551230001", "1"});
  auto* connect = find_row(rows, "CA1", "CONNECT");
  REQUIRE(connect);
  CHECK((*connect)[3] == "alice");
  CHECK((*connect)[5] == "4");  // holdtime: entered at +2 s, answered at +6 s
  CHECK((*connect)[7] == "4");  // ringtime
  auto* complete = find_row(rows, "CA1", "COMPLETEAGENT");
  REQUIRE(complete);
  CHECK(std::vector<std::string>(complete->begin() + 5, complete->end()) ==
        std::vector<std::string>{"4", "95", "1"});

  auto* noanswer = find_row(rows, "CA2", "RINGNOANSWER");
  REQUIRE(noanswer);
  CHECK((*noanswer)[5] == "20000");  // milliseconds
  auto* caller_hangup = find_row(rows, "CA2", "COMPLETECALLER");
  REQUIRE(caller_hangup);
  CHECK((*caller_hangup)[6] == "60");

  auto* abandon = find_row(rows, "CA3", "ABANDON");
  REQUIRE(abandon);
  CHECK(std::vector<std::string>(abandon->begin() + 5, abandon->end()) ==
        std::vector<std::string>{"1", "1", "30"});
  auto* key = find_row(rows, "CA4", "EXITWITHKEY");
  REQUIRE(key);
  CHECK((*key)[5] == "1");
  CHECK((*key)[6] == "1");
  CHECK((*key)[7] == "1");
  CHECK(std::stoi((*key)[8]) >= 600);

  bool paused = false, expired = false, login = false, member = false;
  for (auto& r : rows) {
    paused = paused || (r[3] == "bob" && r[4] == "PAUSE" && r[5] == "auto-pause");
    expired = expired || (r[3] == "alice" && r[4] == "PAUSE" && r[5] == "heartbeat-timeout");
    login = login || (r[3] == "alice" && r[4] == "AGENTLOGIN" && r[5] == "client:client-alice");
    member = member || (r[2] == "support" && r[3] == "bob" && r[4] == "ADDMEMBER");
    CHECK(r.size() >= 6);  // always the '|' after the event name
  }
  CHECK(paused);
  CHECK(expired);
  CHECK(login);
  CHECK(member);
}

TEST_CASE("export time ranges and bad input") {
  callq::testing::temp_dir tmp;
  REQUIRE_FALSE(callq::testing::write_scenario(tmp.path()).empty());
  export_args a;
  a.data_dir = tmp.path();
  a.format = "jsonl";
  a.from = "2026-11-25T12:00:03Z";
  a.to = "2026-11-25T12:02:00Z";
  std::ostringstream out, err;
  REQUIRE(run_export(a, out, err) == 0);
  std::istringstream lines(out.str());
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    auto ts = nlohmann::json::parse(line)["ts"].get<int64_t>();
    CHECK(ts >= 1'795'608'003'000);
    CHECK(ts < 1'795'608'120'000);
    ++n;
  }
  CHECK(n > 3);
  a.format = "xml";
  CHECK(run_export(a, out, err) == 2);
  a.format = "csv";
  a.from = "last tuesday";
  CHECK(run_export(a, out, err) == 2);
  a.from.clear();
  a.data_dir = tmp.path() + "/missing";
  CHECK(run_export(a, out, err) == 2);
  CHECK(err.str().find("does not exist") != std::string::npos);
}

TEST_CASE("replay --until rebuilds the state the server recorded at that point") {
  callq::testing::temp_dir tmp;
  std::string live = callq::testing::write_scenario(tmp.path());
  REQUIRE_FALSE(live.empty());
  // The log ends with a recorded digest of the state after the event it
  // names; replaying up to that event must reproduce it.
  std::unique_ptr<storage::event_log> log;
  storage::log_options ro;
  ro.read_only = true;
  REQUIRE(storage::event_log::open_data_dir(tmp.path(), ro, &log));
  events::envelope e;
  REQUIRE(log->get(log->last_seq(), &e));
  auto d = std::get<events::system_state_digest>(e.ev.body);
  std::string recorded = d.digest;
  log.reset();

  replay_args a;
  a.data_dir = tmp.path();
  a.until = std::to_string(d.seq);
  a.json = true;
  std::ostringstream out, err;
  REQUIRE(run_replay(a, out, err) == 0);
  auto j = nlohmann::json::parse(out.str());
  CHECK(j["digest"] == recorded);
  CHECK(j["digest"] == live);

  a.until.clear();
  a.json = false;
  a.verify = true;
  out.str("");
  CHECK(run_replay(a, out, err) == 0);
  INFO(out.str() << err.str());
  // The scenario's own digest and the one written at shutdown.
  CHECK(out.str().find(" 2 recorded state digests match") != std::string::npos);

  // --until by time, and a timeline.
  replay_args t;
  t.data_dir = tmp.path();
  t.call_sid = "CA1";
  out.str("");
  REQUIRE(run_replay(t, out, err) == 0);
  CHECK(out.str().find("call.enqueued") != std::string::npos);
  CHECK(out.str().find("endedBy=agent") != std::string::npos);
  t.call_sid.clear();
  t.agent_id = "bob";
  out.str("");
  REQUIRE(run_replay(t, out, err) == 0);
  CHECK(out.str().find("agent.paused") != std::string::npos);
  replay_args u;
  u.data_dir = tmp.path();
  u.until = "2026-11-25T12:00:03Z";
  out.str("");
  REQUIRE(run_replay(u, out, err) == 0);
  CHECK(out.str().find("CA1") != std::string::npos);  // waiting or ringing then
  u.until = "not a time";
  CHECK(run_replay(u, out, err) == 2);
}

TEST_CASE("verify and replay --verify catch an edited, deleted or reordered event") {
  auto tamper = [](const std::string& dir, const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& f) {
    std::unique_ptr<storage::rocksdb_log> log;
    REQUIRE(storage::rocksdb_log::open_data_dir(dir, {}, &log));
    f(log->raw_db(), log->raw_events_cf());
  };
  auto verify = [](const std::string& dir, std::string* out) {
    verify_args a{dir};
    std::ostringstream o, e;
    int code = run_verify(a, o, e);
    *out = o.str();
    return code;
  };
  std::string report;
  {
    callq::testing::temp_dir tmp;
    REQUIRE_FALSE(callq::testing::write_scenario(tmp.path()).empty());
    CHECK(verify(tmp.path(), &report) == 0);
    CHECK(report.find("OK: ") == 0);
    tamper(tmp.path(), [](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
      std::string v;
      REQUIRE(db->Get(rocksdb::ReadOptions(), cf, storage::seq_key(10), &v).ok());
      events::envelope e;
      REQUIRE(storage::decode_record(v, &e));
      e.ev.ts_ms += 1000;  // a changed timestamp
      std::string body;
      storage::encode_record_body(e.seq, e.stream, e.stream_version, e.ev, body);
      body += v.substr(v.size() - 32);
      REQUIRE(db->Put(rocksdb::WriteOptions(), cf, storage::seq_key(10), body).ok());
    });
    CHECK(verify(tmp.path(), &report) == 1);
    CHECK(report.find("BROKEN at event 10") == 0);
  }
  {
    callq::testing::temp_dir tmp;
    REQUIRE_FALSE(callq::testing::write_scenario(tmp.path()).empty());
    tamper(tmp.path(), [](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
      REQUIRE(db->Delete(rocksdb::WriteOptions(), cf, storage::seq_key(7)).ok());
    });
    CHECK(verify(tmp.path(), &report) == 1);
    CHECK(report.find("BROKEN at event 7: event 7 is missing") == 0);
  }
  {
    callq::testing::temp_dir tmp;
    REQUIRE_FALSE(callq::testing::write_scenario(tmp.path()).empty());
    tamper(tmp.path(), [](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
      std::string a, b;
      REQUIRE(db->Get(rocksdb::ReadOptions(), cf, storage::seq_key(12), &a).ok());
      REQUIRE(db->Get(rocksdb::ReadOptions(), cf, storage::seq_key(13), &b).ok());
      REQUIRE(db->Put(rocksdb::WriteOptions(), cf, storage::seq_key(12), b).ok());
      REQUIRE(db->Put(rocksdb::WriteOptions(), cf, storage::seq_key(13), a).ok());
    });
    CHECK(verify(tmp.path(), &report) == 1);
    CHECK(report.find("BROKEN at event 12") == 0);
  }
}

TEST_CASE("exporting a 1,000,000-event log stays within a fixed memory bound", "[long]") {
  callq::testing::temp_dir tmp;
  {
    std::unique_ptr<storage::event_log> log;
    REQUIRE(storage::event_log::open_data_dir(tmp.path(), {}, &log));
    std::vector<events::event> batch;
    uint64_t first = 0;
    for (int i = 0; i < 1'000'000; ++i) {
      events::call_enqueued e;
      e.call_sid = "CA" + std::to_string(i);
      e.queue = "support";
      e.position = i % 50 + 1;
      batch.push_back({1'795'608'000'000 + i, e});
      if (batch.size() == 20'000) {
        REQUIRE(log->append(batch, {}, false, &first));
        batch.clear();
      }
    }
  }
  // Export in a child process and read its peak resident set size.
  auto peak_kib = [&](const std::string& format) {
    pid_t pid = fork();
    if (pid == 0) {
      export_args a;
      a.data_dir = tmp.path();
      a.format = format;
      a.output = "/dev/null";
      std::ostringstream out, err;
      _exit(run_export(a, out, err));
    }
    int st = 0;
    rusage ru{};
    wait4(pid, &st, 0, &ru);
    REQUIRE(WIFEXITED(st));
    REQUIRE(WEXITSTATUS(st) == 0);
    return ru.ru_maxrss;
  };
  long before = [] { rusage ru{}; getrusage(RUSAGE_SELF, &ru); return ru.ru_maxrss; }();
  for (auto fmt : {"jsonl", "queue_log"}) {
    long peak = peak_kib(fmt);
    INFO(fmt << " export peak RSS " << peak << " KiB; parent before fork " << before << " KiB");
    // The child starts as a copy of this process; the export itself may add
    // at most 96 MiB (RocksDB block cache, read-ahead, output buffer),
    // whatever the log's size. A 1M-event log held in memory would not fit.
    CHECK(peak - before < 96 * 1024);
  }
}

TEST_CASE("replay --verify stops at the first diverging digest and names its sequence") {
  callq::testing::temp_dir tmp;
  REQUIRE_FALSE(callq::testing::write_scenario(tmp.path()).empty());
  uint64_t forged_seq = 0;
  {
    std::unique_ptr<storage::event_log> log;
    REQUIRE(storage::event_log::open_data_dir(tmp.path(), {}, &log));
    events::system_state_digest older{"1:written-by-an-older-build", 0};
    forged_seq = log->last_seq() + 2;
    events::system_state_digest wrong{std::to_string(world::digest_format) + ":" + std::string(64, '0'),
                                      static_cast<int64_t>(forged_seq)};
    uint64_t first = 0;
    REQUIRE(log->append({{1'795'610'000'000, older}, {1'795'610'000'001, wrong}}, {}, true, &first));
    REQUIRE(first + 1 == forged_seq);
  }
  replay_args a;
  a.data_dir = tmp.path();
  a.verify = true;
  std::ostringstream out, err;
  CHECK(run_replay(a, out, err) == 1);
  CHECK(err.str().find("state diverges at event " + std::to_string(forged_seq)) != std::string::npos);

  a.until = std::to_string(forged_seq - 1);  // stop before the wrong one
  out.str("");
  CHECK(run_replay(a, out, err) == 0);
  CHECK(out.str().find("2 recorded state digests match, 1 recorded in another digest format not compared") !=
        std::string::npos);
}

namespace {

ran replay_json(const std::string& dir, const std::string& until = {}, bool verify = false) {
  replay_args a;
  a.data_dir = dir;
  a.until = until;
  a.json = !verify;
  a.verify = verify;
  std::ostringstream out, err;
  int code = run_replay(a, out, err);
  return {code, out.str(), err.str()};
}

std::string digest_of(const ran& r) {
  auto j = nlohmann::json::parse(r.out);
  return j["digest"].get<std::string>();
}

/// Stores a snapshot of the state after event `seq` (a full replay up to it).
void snapshot_at(const std::string& dir, uint64_t seq) {
  std::unique_ptr<storage::event_log> log;
  REQUIRE(storage::event_log::open_data_dir(dir, {}, &log));
  world w{policy{}};
  rebuild_report rr;
  REQUIRE(rebuild(*log, w, {seq, 0}, &rr));
  REQUIRE(write_snapshot(*log, w, rr.last_ms));
}

}  // namespace

TEST_CASE("a damaged snapshot is skipped with a warning naming it, and an older one is used") {
  enum class damage { flipped_byte, truncated, newer_format, older_format };
  for (auto d : {damage::flipped_byte, damage::truncated, damage::newer_format,
                 damage::older_format}) {
    callq::testing::temp_dir tmp;
    std::string live = callq::testing::write_scenario(tmp.path());  // its stop writes a snapshot
    uint64_t last = 0;
    {
      std::unique_ptr<storage::event_log> log;
      REQUIRE(storage::event_log::open_data_dir(tmp.path(), {}, &log));
      last = log->last_seq();
      std::vector<uint64_t> seqs;
      REQUIRE(log->snapshot_seqs(&seqs));
      REQUIRE(seqs == std::vector<uint64_t>{last});
    }
    snapshot_at(tmp.path(), last / 2);
    {
      std::unique_ptr<storage::rocksdb_log> log;
      REQUIRE(storage::rocksdb_log::open_data_dir(tmp.path(), {}, &log));
      std::string bytes;
      REQUIRE(log->get_snapshot(last, &bytes));
      if (d == damage::flipped_byte)
        bytes[bytes.size() / 2] ^= 0x20;
      else if (d == damage::truncated)
        bytes.resize(bytes.size() - 100);
      else if (d == damage::newer_format)
        bytes[15 + 3] = 9;  // format 9
      else
        bytes[15 + 3] = 1;  // format 1: written before queues were configurable
      REQUIRE(log->raw_db()->Put(rocksdb::WriteOptions(), log->raw_snapshots_cf(),
                                 storage::seq_key(last), bytes).ok());
    }
    auto r = replay_json(tmp.path());
    REQUIRE(r.code == 0);
    CHECK(r.err.find("skipped snapshot at event " + std::to_string(last)) != std::string::npos);
    if (d == damage::newer_format)
      CHECK(r.err.find("newer") != std::string::npos);
    if (d == damage::older_format) {
      CHECK(r.err.find("older") != std::string::npos);
      // An upgrade leaves older snapshots: --verify warns and passes.
      auto v = replay_json(tmp.path(), {}, true);
      CHECK(v.code == 0);
      CHECK(v.err.find("warning: snapshot at event " + std::to_string(last) + " skipped") !=
            std::string::npos);
    }
    CHECK(digest_of(r) == live);
    // The server starts from the older snapshot, and its state equals a
    // full replay.
    callq::testing::actor_harness h({}, 0, tmp.path());
    CHECK(h.check_invariants().empty());
  }
}

TEST_CASE("replay --until starts from the newest snapshot before the target") {
  callq::testing::temp_dir tmp;
  callq::testing::write_scenario(tmp.path());
  uint64_t last = 0;
  {
    std::unique_ptr<storage::event_log> log;
    REQUIRE(storage::event_log::open_data_dir(tmp.path(), {}, &log));
    last = log->last_seq();
  }
  std::string full = digest_of(replay_json(tmp.path(), std::to_string(last - 5)));
  snapshot_at(tmp.path(), last - 10);
  auto r = replay_json(tmp.path(), std::to_string(last - 5));
  REQUIRE(r.code == 0);
  CHECK(digest_of(r) == full);
  CHECK(nlohmann::json::parse(r.out)["seq"] == last - 5);
  // replay --verify compares each stored snapshot with the full replay.
  auto v = replay_json(tmp.path(), {}, true);
  CHECK(v.code == 0);
  CHECK(v.out.find("2 snapshot(s) equal the full replay") != std::string::npos);
}

TEST_CASE("callq snapshot writes one offline and refuses a log a server holds") {
  callq::testing::temp_dir tmp;
  std::string live = callq::testing::write_scenario(tmp.path());
  snapshot_args a;
  a.data_dir = tmp.path();
  std::ostringstream out, err;
  CHECK(run_snapshot(a, out, err) == 0);
  CHECK(out.str().find("snapshot written at event") == 0);
  CHECK(out.str().find(live) != std::string::npos);
  {
    callq::testing::actor_harness h({}, 0, tmp.path());  // holds the log
    std::ostringstream o2, e2;
    CHECK(run_snapshot(a, o2, e2) == 1);
    CHECK(e2.str().find("server is running") != std::string::npos);
  }
  snapshot_args missing;
  missing.data_dir = tmp.path() + "/nothing";
  std::ostringstream o3, e3;
  CHECK(run_snapshot(missing, o3, e3) == 2);
}

TEST_CASE("verify reports a log whose tail was removed, naming both events") {
  callq::testing::temp_dir tmp;
  callq::testing::write_scenario(tmp.path());  // a clean stop records the chain head
  uint64_t last = 0;
  {
    std::unique_ptr<storage::rocksdb_log> log;
    REQUIRE(storage::rocksdb_log::open_data_dir(tmp.path(), {}, &log));
    last = log->last_seq();
    for (uint64_t s = last - 2; s <= last; ++s)
      REQUIRE(log->raw_db()->Delete(rocksdb::WriteOptions(), log->raw_events_cf(), storage::seq_key(s)).ok());
  }
  verify_args a{tmp.path()};
  std::ostringstream out, err;
  CHECK(run_verify(a, out, err) == 1);
  INFO(out.str());
  CHECK(out.str().find("BROKEN at event " + std::to_string(last - 2)) == 0);
  CHECK(out.str().find("ends at event " + std::to_string(last - 3)) != std::string::npos);
  CHECK(out.str().find("recorded at event " + std::to_string(last)) != std::string::npos);
}

TEST_CASE("a SIGKILL while snapshots are written never leaves the log unable to start") {
  callq::testing::temp_dir tmp;
  std::string live = callq::testing::write_scenario(tmp.path());
  for (int round = 0; round < 3; ++round) {
    std::unique_ptr<storage::event_log> log;
    std::unique_ptr<world> state;
    uint64_t written = 0;
    uint64_t acked = callq::testing::append_until_killed(
        [&] {
          REQUIRE(storage::event_log::open_data_dir(tmp.path(), {}, &log));
          state = std::make_unique<world>(policy{});
          rebuild_report rr;
          REQUIRE(rebuild(*log, *state, {}, &rr));
        },
        [&]() -> uint64_t {
          events::envelope last;
          if (!log->get(state->last_seq(), &last) || !write_snapshot(*log, *state, last.ev.ts_ms))
            return 0;
          return ++written;
        },
        static_cast<uint64_t>(5 + round * 7));
    REQUIRE(acked >= 5);
    // Whatever the kill interrupted: the newest snapshot that loads is
    // valid, nothing is skipped, and the state equals the full replay.
    auto r = replay_json(tmp.path());
    REQUIRE(r.code == 0);
    CHECK(r.err.find("skipped") == std::string::npos);
    CHECK(digest_of(r) == live);
  }
  callq::testing::actor_harness h({}, 0, tmp.path());
  CHECK(h.check_invariants().empty());
}

TEST_CASE("the CLI exits 2 with the reason: both --call and --agent, a bad --split, an unwritable --output") {
  callq::testing::temp_dir tmp;
  REQUIRE_FALSE(callq::testing::write_scenario(tmp.path()).empty());
  std::ostringstream out, err;
  replay_args r;
  r.data_dir = tmp.path();
  r.call_sid = "CA1";
  r.agent_id = "alice";
  CHECK(run_replay(r, out, err) == 2);
  CHECK(err.str().find("not both") != std::string::npos);
  report_args rep;
  rep.data_dir = tmp.path();
  rep.split = "agents";
  err.str("");
  CHECK(run_report(rep, out, err) == 2);
  CHECK(err.str().find("split") != std::string::npos);
  export_args e;
  e.data_dir = tmp.path();
  e.format = "csv";
  e.output = tmp.path() + "/no-such-dir/out.csv";
  err.str("");
  CHECK(run_export(e, out, err) == 2);
  CHECK(err.str().find("cannot write") != std::string::npos);
}
