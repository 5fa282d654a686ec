// dispatch_bench: the dispatcher's matching at scale, memory per queued
// call, and recovery time of a 1,000,000-event log.
//
//   dispatch_bench [--agents=10000] [--calls=100000] [--samples=10000] [--log-events=1000000]
#include <cstdio>
#include <filesystem>

#include "actors/center.hpp"
#include "bench/bench_util.hpp"
#include "bench/sample_log.hpp"
#include "replay/rebuild.hpp"

using namespace callq;
using clk = std::chrono::steady_clock;

namespace {

int64_t now_ms = 1'795'608'000'000;

void must(const center::result& r) {
  if (r.answer.status >= 400) {
    std::fprintf(stderr, "command failed: %s\n", r.answer.error.c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  long agents = bench::arg(argc, argv, "agents", 10'000);
  long calls = bench::arg(argc, argv, "calls", 100'000);
  long samples = bench::arg(argc, argv, "samples", 10'000);
  long log_events = bench::arg(argc, argv, "log-events", 1'000'000);
  std::printf("dispatch_bench: %ld agents, %ld queued calls, %ld samples\n", agents, calls, samples);

  policy p;
  p.heartbeat_timeout_ms = 24L * 3600 * 1000;  // no expiry during the run
  p.max_queue_wait_ms = 24L * 3600 * 1000;
  center c(p);
  for (long i = 0; i < agents; ++i) {
    std::string id = "agent" + std::to_string(i);
    must(c.handle(cmd::put_agent{id, id, id, "h", {"support"}, {}}, now_ms));
    must(c.handle(cmd::heartbeat{id, "h", "busy", true}, now_ms));  // logged in, not ready
  }
  long rss_before = bench::rss_kib();
  for (long i = 0; i < calls; ++i) {
    now_ms += 1;
    must(c.handle(cmd::incoming_call{"CA" + std::to_string(1'000'000'000 + i) + "0123456789abcdef0123",
                                     "+1555" + std::to_string(1'000'000 + i), "+15559990000",
                                     "support", "", i % 10 == 0 ? std::optional<int64_t>(5) : std::nullopt},
                   now_ms));
  }
  long rss_after = bench::rss_kib();
  std::printf("  memory per queued call: %.0f bytes (RSS %ld -> %ld KiB for %ld calls)\n",
              static_cast<double>(rss_after - rss_before) * 1024.0 / static_cast<double>(calls),
              rss_before, rss_after, calls);

  // An agent becomes ready: the heartbeat is decided, readiness recomputed,
  // and the best call offered to it.
  std::vector<double> us;
  us.reserve(static_cast<size_t>(samples));
  long offers = 0;
  for (long i = 0; i < samples && i < agents; ++i) {
    std::string id = "agent" + std::to_string(i);
    now_ms += 1;
    auto t0 = clk::now();
    auto r = c.handle(cmd::heartbeat{id, "h", "available", true}, now_ms);
    us.push_back(std::chrono::duration<double, std::micro>(clk::now() - t0).count());
    for (auto& e : r.events)
      offers += std::holds_alternative<events::call_offered>(e.body);
  }
  std::printf("  agent ready -> offer decided: p50 %.1f us, p99 %.1f us, max %.1f us (%ld offers)\n",
              bench::percentile(us, 50), bench::percentile(us, 99), bench::percentile(us, 100), offers);

  std::printf("  (%zu calls still waiting)\n", c.queues().at("support").dispatchable.size());

  // Recovery of a large log.
  std::string dir = (std::filesystem::temp_directory_path() / "callq-dispatch-bench").string();
  std::filesystem::remove_all(dir);
  bench::write_sample_log(dir, static_cast<uint64_t>(log_events));
  auto t0 = clk::now();
  std::unique_ptr<storage::event_log> log;
  storage::log_options ro;
  ro.read_only = true;
  if (!storage::event_log::open_data_dir(dir, ro, &log))
    return 1;
  center rebuilt(policy{});
  replay::rebuild_report rr;
  if (auto st = replay::rebuild(*log, rebuilt, {}, &rr); !st) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    return 1;
  }
  auto r = rebuilt.handle(cmd::recover{"bench"}, now_ms);
  double secs = bench::seconds_since(t0);
  std::printf("  recovery: %lu events rebuilt in %.2f s (%.0f events/s), %zu recovery events\n",
              static_cast<unsigned long>(rr.events), secs, static_cast<double>(rr.events) / secs,
              r.events.size());
  log.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
