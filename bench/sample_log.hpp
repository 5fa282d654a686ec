// Writes a realistic event log for the benchmarks: calls arriving,
// offered, answered and completed by 200 agents, decided by the real state
// logic.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "actors/center.hpp"
#include "storage/event_log.hpp"

namespace callq::bench {

/// Fills `data_dir` (which must not hold a log yet) with at least `count`
/// events; returns the number written.
inline uint64_t write_sample_log(const std::string& data_dir, uint64_t count) {
  std::unique_ptr<storage::event_log> log;
  if (auto st = storage::event_log::open_data_dir(data_dir, {}, &log); !st) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    std::exit(1);
  }
  center live(policy{});
  std::vector<events::event> pending;
  uint64_t written = 0, first = 0;
  auto keep = [&](center::result r) {
    for (auto& e : r.events)
      pending.push_back(std::move(e));
    if (pending.size() >= 10'000) {
      written += pending.size();
      if (!log->append(pending, {}, false, &first))
        std::exit(1);
      pending.clear();
    }
  };
  int64_t t = 1'795'608'000'000;
  for (int a = 0; a < 200; ++a) {
    std::string id = "ag" + std::to_string(a);
    keep(live.handle(cmd::put_agent{id, id, id, "h", {"support"}, {}}, t));
  }
  long n = 0;
  while (written + pending.size() < count) {
    t += 500;
    std::string sid = "CA" + std::to_string(n++) + "0123456789abcdef0123456789";
    keep(live.handle(cmd::incoming_call{sid, "+15551230000", "+15559990000", "support", "", std::nullopt}, t));
    std::string ag = "ag" + std::to_string(n % 200);
    keep(live.handle(cmd::heartbeat{ag, "h", "available", true}, t));
    const call* c = live.find_call(sid);
    if (c != nullptr && c->phase == call_phase::offered) {
      std::string offer = c->offer_id;
      keep(live.handle(cmd::agent_leg_status{offer, "in-progress"}, t + 100));
      keep(live.handle(cmd::dial_result{offer, "completed", "in-progress", 60}, t + 200));
    }
    if (n % 5000 == 0)
      keep(live.handle(cmd::queue_cleanup{}, t + 1'000'000));
  }
  written += pending.size();
  if (!pending.empty() && !log->append(pending, {}, true, &first))
    std::exit(1);
  return written;
}

}  // namespace callq::bench
