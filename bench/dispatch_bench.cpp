// dispatch_bench: first the skills run (the matching index alone: 10,000
// agents with 5 skills of 30, 100,000 waiting calls in 20 queues with
// three skill steps; bench/skills_match.cpp), then matching with entity
// actors at scale -- 10,000 agent actors and 100,000 call actors on the
// real runtime (journal with WAL syncs, the dispatcher, the timer service)
// -- memory per queued call including its actor, state digests of that
// state (how long the timer service, which asks for them, is held up
// meanwhile), and recovery of a 1,000,000-event log.
//
//   dispatch_bench [--agents=10000] [--calls=100000] [--samples=10000]
//                  [--log-events=1000000] [--threads=8] [--skills-only=1]
//                  [--skills=0] [--recovery=0] [--exit-queued=1]
//                  [--passivate-after=2000] [--digests=5]
//
// `--skills=0` and `--recovery=0` leave those parts out; `--exit-queued=1`
// ends the process as soon as the calls are queued, freeing nothing, so
// that a heap profiler's "leaked" list is the heap of the queued calls
// (heaptrack dispatch_bench --skills=0 --exit-queued=1). The queued
// calls are then left idle past `--passivate-after` ms (the runtime's
// default; 0: never) and measured again, passivated; the heartbeats that
// follow each wake the call they are offered.
//
// Latency is the time from an agent's heartbeat entering its actor's
// mailbox to the REST redirect of the call it is offered being handed to
// the gateway (the redirect leaves only once the offer is durable).
#include <malloc.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include <rocksdb/db.h>

#include "actors/runtime.hpp"
#include "bench/bench_util.hpp"
#include "bench/sample_log.hpp"
#include "bench/skills_match.hpp"
#include "storage/rocksdb_log.hpp"

using namespace callq;
using clk = std::chrono::steady_clock;

namespace {

/// Where the bench's stand-in gateway reports.
struct redirects {
  std::mutex mu;
  std::condition_variable cv;
  uint64_t count = 0;
  clk::time_point last;
};

/// Runs `f(i)` for i in [0, n) on `threads` threads.
template <class F> void parallel(long n, long threads, F f) {
  std::atomic<long> next{0};
  std::vector<std::thread> ts;
  for (long t = 0; t < threads; ++t)
    ts.emplace_back([&] {
      for (long i = next++; i < n; i = next++)
        f(i);
    });
  for (auto& t : ts)
    t.join();
}

/// RocksDB's own memory (memtables and table readers): the log's cache,
/// not the calls', so it is subtracted from the RSS growth.
long log_memory_kib(const runtime& rt) {
  auto* db = dynamic_cast<storage::rocksdb_log&>(const_cast<storage::event_log&>(rt.log())).raw_db();
  uint64_t mem = 0, readers = 0;
  db->GetAggregatedIntProperty("rocksdb.cur-size-all-mem-tables", &mem);
  db->GetAggregatedIntProperty("rocksdb.estimate-table-readers-mem", &readers);
  return static_cast<long>((mem + readers) / 1024);
}

void must(const reply& r, const char* what) {
  if (r.failed()) {
    std::fprintf(stderr, "%s failed: %s\n", what, r.reason.c_str());
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
  long threads = bench::arg(argc, argv, "threads", 8);
  if (bench::arg(argc, argv, "skills", 1) != 0)
    if (int broken = bench::skills_run(agents, calls, samples); broken != 0)
      return broken;
  if (bench::arg(argc, argv, "skills-only", 0) != 0)
    return 0;
  std::printf("dispatch_bench: %ld agent actors, %ld call actors, %ld samples\n", agents, calls,
              samples);

  std::string dir = (std::filesystem::temp_directory_path() / "callq-dispatch-bench").string();
  std::filesystem::remove_all(dir);
  auto seen = std::make_shared<redirects>();
  runtime_options o;
  o.data_dir = dir + "/live";
  o.clock = std::make_shared<manual_clock_source>(1'795'608'000'000);
  o.rules.heartbeat_timeout_ms = 24L * 3600 * 1000;  // no expiry during the run
  o.rules.max_queue_wait_ms = 24L * 3600 * 1000;
  o.passivate_after_ms = bench::arg(argc, argv, "passivate-after", o.passivate_after_ms);
  o.rest_sink = [seen](const rest_job&) {
    std::lock_guard lock(seen->mu);
    ++seen->count;
    seen->last = clk::now();
    seen->cv.notify_all();
  };
  std::unique_ptr<runtime> rt;
  if (auto st = runtime::start(o, &rt); !st) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    return 1;
  }
  auto t0 = clk::now();
  parallel(agents, threads, [&](long i) {
    std::string id = "agent" + std::to_string(i);
    must(rt->ask(cmd::put_agent{id, id, id, "h", {"support"}, {}, {}, {}}), "put_agent");
    must(rt->ask(cmd::heartbeat{id, "h", "busy", true}), "heartbeat");  // logged in, not ready
  });
  std::printf("  %ld agents created in %.1f s\n", agents, bench::seconds_since(t0));
  long rss_before = bench::rss_kib();
  long log_before = log_memory_kib(*rt);
  size_t heap_before = mallinfo2().uordblks + mallinfo2().hblkhd;
  t0 = clk::now();
  parallel(calls, threads, [&](long i) {
    must(rt->ask(cmd::incoming_call{"CA" + std::to_string(1'000'000'000 + i) + "0123456789abcdef0123",
                                    "+1555" + std::to_string(1'000'000 + i), "+15559990000", "support",
                                    "", i % 10 == 0 ? std::optional<int64_t>(5) : std::nullopt}),
         "incoming_call");
  });
  double arrive_s = bench::seconds_since(t0);
  long rss_after = bench::rss_kib();
  long log_after = log_memory_kib(*rt);
  size_t heap_after = mallinfo2().uordblks + mallinfo2().hblkhd;
  std::printf("  %ld calls arrived in %.1f s (%.0f/s, each durably logged before its answer)\n",
              calls, arrive_s, static_cast<double>(calls) / arrive_s);
  std::printf("  live actors: %zu calls, %zu agents\n", rt->actors().calls, rt->actors().agents);
  long own = (rss_after - rss_before) - (log_after - log_before);
  std::printf("  memory per queued call (actor, state, index, read model): %.0f bytes "
              "(RSS %ld -> %ld KiB, of which RocksDB memtables and readers %ld -> %ld KiB; "
              "with them %.0f bytes)\n",
              static_cast<double>(own) * 1024.0 / static_cast<double>(calls), rss_before, rss_after,
              log_before, log_after,
              static_cast<double>(rss_after - rss_before) * 1024.0 / static_cast<double>(calls));
  // What malloc handed out and was not freed, RocksDB's memtables and
  // readers excluded as above, beside the RSS figure: the difference is
  // the allocator's own (arenas, fragmentation, pages not yet returned).
  std::printf("  heap in use per queued call (malloc's count, the same exclusions): %.0f bytes\n",
              (static_cast<double>(heap_after) - static_cast<double>(heap_before) -
               static_cast<double>(log_after - log_before) * 1024.0) /
                  static_cast<double>(calls));
  // The same calls once idle long enough to be passivated (their actors
  // stopped, each call kept as its state): what a call that waits costs.
  if (o.passivate_after_ms > 0) {
    if (auto st = rt->advance_clock(o.passivate_after_ms + 1000); !st) {
      std::fprintf(stderr, "%s\n", st.to_string().c_str());
      return 1;
    }
    // The timer service answers the advance from its last reply handler,
    // whose shared list of replies (about 400 bytes a call) goes only
    // after that handler returns: a further question to it is answered
    // once it has.
    (void)rt->pending_timers();
    size_t heap_passive = mallinfo2().uordblks + mallinfo2().hblkhd;
    std::printf("  passivated after %.0f s idle: %zu of %zu calls; heap in use per queued call then "
                "%.0f bytes (RocksDB's excluded as above)\n",
                static_cast<double>(o.passivate_after_ms) / 1000.0, rt->actors().passive_calls,
                rt->actors().calls,
                (static_cast<double>(heap_passive) - static_cast<double>(heap_before) -
                 static_cast<double>(log_memory_kib(*rt) - log_before) * 1024.0) /
                    static_cast<double>(calls));
  }
  if (bench::arg(argc, argv, "exit-queued", 0) != 0)
    std::_Exit(0);

  // One agent at a time becomes ready; the dispatcher matches it with the
  // best waiting call; the call takes the offer and, once durable, hands
  // the redirect to the gateway.
  std::vector<double> us;
  us.reserve(static_cast<size_t>(samples));
  for (long i = 0; i < samples && i < agents; ++i) {
    std::string id = "agent" + std::to_string(i);
    uint64_t before;
    {
      std::lock_guard lock(seen->mu);
      before = seen->count;
    }
    auto start = clk::now();
    rt->ask(cmd::heartbeat{id, "h", "available", true});
    std::unique_lock lock(seen->mu);
    if (!seen->cv.wait_for(lock, std::chrono::seconds(5), [&] { return seen->count > before; })) {
      std::fprintf(stderr, "no redirect for %s\n", id.c_str());
      return 1;
    }
    us.push_back(std::chrono::duration<double, std::micro>(seen->last - start).count());
  }
  std::printf("  agent heartbeat -> REST redirect handed to the gateway: p50 %.0f us, p99 %.0f us, "
              "max %.0f us (%zu offers)\n",
              bench::percentile(us, 50), bench::percentile(us, 99), bench::percentile(us, 100),
              us.size());
  // The WAL sync's own share, for comparison: the journal's write time
  // (submitted to durable) over the whole run, by histogram bucket.
  const auto& j = rt->journal_figures();
  uint64_t p99 = journal_stats::percentile_bound(j.sync_buckets, 99);
  std::printf("  beside it, the WAL sync (journal write, submitted -> durable) over the run: "
              "p50 <= %lu us, p99 <= %s us, mean %.0f us (%lu writes)\n",
              static_cast<unsigned long>(journal_stats::percentile_bound(j.sync_buckets, 50)),
              p99 == UINT64_MAX ? "over 100000" : std::to_string(p99).c_str(),
              j.syncs.load() ? static_cast<double>(j.sync_us_total.load()) / static_cast<double>(j.syncs.load()) : 0.0,
              static_cast<unsigned long>(j.syncs.load()));
  // State digests of all this (recorded every 50,000 events in real time,
  // and at every stop), the timer service asked a question meanwhile, over
  // and over: how long a digest holds up the actor that asks for it.
  {
    long digests = bench::arg(argc, argv, "digests", 5);
    std::atomic<bool> done{false};
    std::vector<double> digest_ms, probe_us;
    std::thread asker([&] {
      for (long i = 0; i < digests; ++i) {
        auto t = clk::now();
        must(rt->ask(cmd::record_digest{}), "record_digest");
        digest_ms.push_back(std::chrono::duration<double, std::milli>(clk::now() - t).count());
      }
      done = true;
    });
    while (!done) {
      auto t = clk::now();
      (void)rt->pending_timers();
      probe_us.push_back(std::chrono::duration<double, std::micro>(clk::now() - t).count());
    }
    asker.join();
    std::printf("  a state digest recorded (made, then durable): median %.0f ms of %zu; the timer "
                "service answered meanwhile in p50 %.0f us, p99 %.0f us, max %.0f us (%zu questions)\n",
                bench::percentile(digest_ms, 50), digest_ms.size(), bench::percentile(probe_us, 50),
                bench::percentile(probe_us, 99), bench::percentile(probe_us, 100), probe_us.size());
  }
  rt->stop();
  rt.reset();
  if (bench::arg(argc, argv, "recovery", 1) == 0) {
    std::filesystem::remove_all(dir);
    return 0;
  }

  // Recovery of a large log: one pass rebuilds every entity, then the
  // actors are spawned from those states and the open offers resolved.
  bench::write_sample_log(dir + "/recovery", static_cast<uint64_t>(log_events));
  runtime_options r;
  r.data_dir = dir + "/recovery";
  r.clock = std::make_shared<manual_clock_source>(1'900'000'000'000);
  r.rest_sink = [](const rest_job&) {};
  t0 = clk::now();
  {
    std::unique_ptr<storage::event_log> probe;
    storage::log_options ro;
    ro.read_only = true;
    if (storage::event_log::open_data_dir(r.data_dir, ro, &probe))
      std::printf("  opening the log alone (read-only): %.2f s\n", bench::seconds_since(t0));
  }
  // The sample's clean stop wrote a snapshot at its last event: a start
  // from it replays nothing (the part printed "0 events rebuilt"). Both
  // are measured: every snapshot removed (one pass over the whole log),
  // then from the snapshot the first start's clean stop writes.
  for (const char* how : {"full replay", "from the snapshot"}) {
    if (std::string(how) == "full replay")
      bench::remove_snapshots(r.data_dir);
    t0 = clk::now();
    startup_report rep;
    if (auto st = runtime::start(r, &rt, &rep); !st) {
      std::fprintf(stderr, "%s\n", st.to_string().c_str());
      return 1;
    }
    double secs = bench::seconds_since(t0);
    std::printf("  recovery (%s): snapshot at event %lu, %lu events rebuilt (%.2f s), %lu call and "
                "%lu agent actors spawned, ready in %.2f s\n",
                how, static_cast<unsigned long>(rep.snapshot_seq),
                static_cast<unsigned long>(rep.events_replayed), rep.replay_seconds,
                static_cast<unsigned long>(rep.calls), static_cast<unsigned long>(rep.agents), secs);
    rt->stop();
    rt.reset();
  }
  std::filesystem::remove_all(dir);
  return 0;
}
