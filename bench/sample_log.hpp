// Writes a realistic event log for the benchmarks: calls arriving,
// offered, answered and completed by 200 agents, decided by the real
// actors (the runtime on CAF's test scheduler, without WAL syncs).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include <rocksdb/db.h>

#include "actors/runtime.hpp"
#include "storage/record.hpp"
#include "storage/rocksdb_log.hpp"

namespace callq::bench {

/// Fills `data_dir` (which must not hold a log yet) with at least `count`
/// events; returns the number written.
inline uint64_t write_sample_log(const std::string& data_dir, uint64_t count) {
  runtime_options o;
  o.data_dir = data_dir;
  o.deterministic = true;
  o.clock = std::make_shared<manual_clock_source>(1'795'608'000'000);
  std::unique_ptr<runtime> rt;
  if (auto st = runtime::start(o, &rt); !st) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    std::exit(1);
  }
  for (int a = 0; a < 200; ++a) {
    std::string id = "ag" + std::to_string(a);
    rt->ask(cmd::put_agent{id, id, id, "h", {"support"}, {}, {}, {}});
  }
  long n = 0;
  while (rt->log().last_seq() < count) {
    o.clock->advance(500);
    std::string sid = "CA" + std::to_string(n++) + "0123456789abcdef0123456789";
    rt->ask(cmd::incoming_call{sid, "+15551230000", "+15559990000", "support", "", std::nullopt});
    std::string ag = "ag" + std::to_string(n % 200);
    rt->ask(cmd::heartbeat{ag, "h", "available", true});
    std::string offer = rt->reads().read([&](const world& w) {
      const call_state* c = w.find_call(sid);
      return c != nullptr && c->phase == call_phase::offered ? c->routing().offer_id : std::string();
    });
    if (!offer.empty()) {
      o.clock->advance(100);
      rt->ask(cmd::agent_leg_status{offer, "in-progress"});
      o.clock->advance(100);
      rt->ask(cmd::dial_result{offer, "completed", "in-progress", 60});
    }
  }
  uint64_t written = rt->log().last_seq();
  rt->stop();
  return written;
}

/// Deletes every snapshot of the RocksDB log in `data_dir`, so that the
/// next start replays the whole log.
inline void remove_snapshots(const std::string& data_dir) {
  std::unique_ptr<storage::rocksdb_log> log;
  if (!storage::rocksdb_log::open_data_dir(data_dir, {}, &log))
    std::exit(1);
  std::vector<uint64_t> seqs;
  log->snapshot_seqs(&seqs);
  for (uint64_t s : seqs)
    log->raw_db()->Delete(rocksdb::WriteOptions(), log->raw_snapshots_cf(), storage::seq_key(s));
}

}  // namespace callq::bench
