// End to end: a server with a long history comes back with the memory of
// a fresh one, and from a snapshot without replaying that history.
#include <csignal>
#include <fstream>

#include <catch2/catch.hpp>

#include "events/catalogue.hpp"
#include "storage/event_log.hpp"
#include "tests/spawn_server.hpp"
#include "tests/temp_dir.hpp"

using namespace callq;

namespace {

/// Starts the server on `dir`, reads its RSS once it listens, stops it
/// (SIGTERM: a clean stop, which writes a snapshot).
long started_rss(const std::string& dir) {
  auto s = testing::spawn_callq(CALLQ_BINARY, {{"CALLQ_DATA_DIR", dir}, {"CALLQ_PORT", "0"},
                                               {"CALLQ_ADMIN_TOKEN", "t"}},
                                120);
  REQUIRE(s.port > 0);
  long rss = testing::rss_kib_of(s.pid);
  CHECK(testing::stop_child(s.pid, SIGTERM) == 0);
  return rss;
}

}  // namespace

TEST_CASE("e2e: after a 1,000,000-event history with few live calls, RSS is a fresh server's") {
  testing::temp_dir tmp;
  std::string history = tmp.path() + "/history", fresh = tmp.path() + "/fresh";
  uint64_t written = 0;
  {
    std::unique_ptr<storage::event_log> log;
    REQUIRE(storage::event_log::open_data_dir(history, {}, &log));
    std::vector<events::event> batch;
    uint64_t first = 0;
    int64_t t = 1'795'608'000'000;
    // 333,334 calls that arrive, wait and hang up; the last 5 still wait.
    for (int i = 0; log->last_seq() + batch.size() < 1'000'000; ++i) {
      std::string sid = "CA" + std::to_string(i) + "0123456789abcdef0123456789";
      events::call_arrived a;
      a.call_sid = sid;
      a.from = "+15551230000";
      a.to = "+15559990000";
      a.queue = "support";
      a.order = i + 1;
      batch.push_back({t, a});
      events::call_enqueued q;
      q.call_sid = sid;
      q.queue = "support";
      q.position = 1;
      batch.push_back({t, q});
      if (log->last_seq() + batch.size() < 1'000'000 - 20) {
        events::call_abandoned x;
        x.call_sid = sid;
        x.queue = "support";
        x.reason = "hangup";
        x.position = 1;
        x.orig_position = 1;
        x.wait_seconds = 30;
        batch.push_back({t + 30'000, x});
      }
      t += 1000;
      if (batch.size() >= 30'000) {
        REQUIRE(log->append(batch, {}, false, &first));
        batch.clear();
      }
    }
    REQUIRE(log->append(batch, {}, false, &first));
    written = log->last_seq();
  }
  REQUIRE(written >= 1'000'000);
  long fresh_rss = started_rss(fresh);
  long full_replay_rss = started_rss(history);  // no snapshot yet: replays it all
  long snapshot_rss = started_rss(history);     // from the snapshot its stop wrote
  INFO("fresh " << fresh_rss << " KiB, after a full replay " << full_replay_rss
                << " KiB, from a snapshot " << snapshot_rss << " KiB");
  // Memory holds live state only: the history costs at most RocksDB's
  // bounded caches and read-ahead, not its calls.
  CHECK(full_replay_rss - fresh_rss < 48 * 1024);
  CHECK(snapshot_rss - fresh_rss < 48 * 1024);
  std::unique_ptr<storage::event_log> log;
  storage::log_options ro;
  ro.read_only = true;
  REQUIRE(storage::event_log::open_data_dir(history, ro, &log));
  std::vector<uint64_t> seqs;
  REQUIRE(log->snapshot_seqs(&seqs));
  CHECK(seqs.size() >= 2);
}
