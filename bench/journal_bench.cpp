// journal_bench: durable appends through the journal actor (group commit,
// WAL synced), the same with sync off for reference, and read-and-decode
// throughput of the whole log.
//
//   journal_bench [--events=N] [--producers=K] [--inflight=D] [--store=postgresql://...]
//
// With --store the log is that PostgreSQL database (emptied first; README,
// "High availability"); bench/pg_append.sh runs it beside pgbench.
#include <cstdio>
#include <deque>
#include <filesystem>
#include <functional>

#include <caf/all.hpp>

#include "actors/journal/journal_actor.hpp"
#include "actors/messages.hpp"
#include "bench/bench_util.hpp"
#include "storage/pg_connection.hpp"

using namespace callq;
using clk = std::chrono::steady_clock;

namespace {

/// An event of about 200 bytes stored. Like a real call's history, each
/// stream (call) gets 8 events.
events::event sample(int producer, int i) {
  events::call_arrived a;
  a.call_sid = "CA" + std::to_string(producer) + "x" + std::to_string(i / 8) + "0123456789abcdef0123456789";
  a.from = "+15551234567";
  a.to = "+15559876543";
  a.queue = "support";
  a.caller_name = "A caller with a reasonably long display name, for size";
  a.priority = i % 3;
  return {1'795'608'000'000 + i, a};
}

struct run_result {
  double seconds = 0;
  std::vector<double> latencies_us;
  uint64_t syncs = 0;
  double write_us = 0;  ///< average RocksDB write (+ sync) per batch
};

run_result run(const std::string& dir, const std::string& store, long total, long producers,
               long inflight, bool sync) {
  std::filesystem::remove_all(dir);
  if (!store.empty()) {  // an empty log, as a fresh directory is
    std::unique_ptr<storage::pg_connection> c;
    if (storage::pg_connection::connect(store, &c))
      c->exec_script("DROP TABLE IF EXISTS callq_events, callq_idempotency, callq_snapshots, "
                     "callq_meta, callq_leader");
  }
  std::unique_ptr<storage::event_log> owned;
  if (auto st = storage::event_log::open_store(store, dir, {}, &owned); !st) {
    std::fprintf(stderr, "%s\n", st.to_string().c_str());
    std::exit(1);
  }
  std::shared_ptr<storage::event_log> log = std::move(owned);
  auto stats = std::make_shared<journal_stats>();
  run_result out;
  {
    caf::actor_system_config cfg;
    cfg.set("scheduler.max-threads", 2);
    caf::actor_system sys{cfg};
    journal_options jo;
    jo.sync = sync;
    auto journal = spawn_journal(sys, log, stats, jo);
    long per = total / producers;
    // Producers are actors (as callq's dispatcher is): each keeps `inflight`
    // appends outstanding and sends the next when one is acknowledged.
    auto lat = std::make_shared<std::vector<std::vector<double>>>(static_cast<size_t>(producers));
    auto t0 = clk::now();
    {
      caf::scoped_actor waiter{sys};
      for (long p = 0; p < producers; ++p) {
        auto done_to = caf::actor_cast<caf::actor>(waiter);
        sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
          auto sent = std::make_shared<long>(0);
          auto acked = std::make_shared<long>(0);
          auto& mine = (*lat)[static_cast<size_t>(p)];
          mine.reserve(static_cast<size_t>(per));
          auto send_one = std::make_shared<std::function<void()>>();
          *send_one = [=, &mine] {
            journal_batch b;
            b.events.push_back(sample(static_cast<int>(p), static_cast<int>((*sent)++)));
            auto at = clk::now();
            self->request(journal, caf::infinite, append_atom::value, std::move(b))
                .then([=, &mine](uint64_t) {
                  mine.push_back(std::chrono::duration<double, std::micro>(clk::now() - at).count());
                  if (++*acked == per) {
                    self->send(done_to, static_cast<int>(p));
                    *send_one = nullptr;  // break the self-reference, release done_to
                    self->quit();
                  } else if (*sent < per) {
                    (*send_one)();
                  }
                }, [=](caf::error&) { std::fprintf(stderr, "append failed\n"); std::exit(1); });
          };
          for (long i = 0; i < inflight && *sent < per; ++i)
            (*send_one)();
          return {[](int) {}};  // stays alive while its requests are out
        });
      }
      for (long p = 0; p < producers; ++p)
        waiter->receive([](int) {});
    }
    out.seconds = bench::seconds_since(t0);
    for (auto& v : *lat)
      out.latencies_us.insert(out.latencies_us.end(), v.begin(), v.end());
    caf::anon_send_exit(journal, caf::exit_reason::user_shutdown);
  }
  out.syncs = stats->syncs.load();
  out.write_us = static_cast<double>(stats->sync_us_total.load()) /
                 static_cast<double>(std::max<uint64_t>(1, out.syncs));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  long total = bench::arg(argc, argv, "events", 400'000);
  long producers = bench::arg(argc, argv, "producers", 64);
  long inflight = bench::arg(argc, argv, "inflight", 1);
  std::string store = bench::sarg(argc, argv, "store", "");
  std::string dir = (std::filesystem::temp_directory_path() / "callq-journal-bench").string();

  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("journal_bench: %ld events of ~200 bytes, %ld producers, %ld in flight each, on %s\n",
              total, producers, inflight, store.empty() ? "RocksDB" : "PostgreSQL");
  for (bool sync : {true, false}) {
    auto r = run(dir, store, total, producers, inflight, sync);
    double rate = static_cast<double>(r.latencies_us.size()) / r.seconds;
    double p50 = bench::percentile(r.latencies_us, 50), p99 = bench::percentile(r.latencies_us, 99);
    std::printf("  %-12s %10.0f events/s   p50 %8.1f us   p99 %8.1f us   %lu writes (%.1f events, %.0f us each)\n",
                sync ? (store.empty() ? "WAL synced" : "committed") : "sync off", rate, p50, p99,
                static_cast<unsigned long>(r.syncs),
                static_cast<double>(r.latencies_us.size()) / static_cast<double>(std::max<uint64_t>(1, r.syncs)),
                r.write_us);
  }

  // Read and decode the whole (last written) log.
  std::unique_ptr<storage::event_log> log;
  storage::log_options ro;
  ro.read_only = true;
  if (!storage::event_log::open_store(store, dir, ro, &log))
    return 1;
  for (int round = 0; round < 2; ++round) {
    auto t0 = clk::now();
    uint64_t n = 0, bytes = 0;
    auto st = log->scan(1, [&](const events::envelope& e) {
      ++n;
      bytes += e.stream.size();
      return true;
    });
    if (!st)
      return 1;
    double s = bench::seconds_since(t0);
    std::printf("  read+decode  %10.0f events/s   (%lu events, pass %d)\n",
                static_cast<double>(n) / s, static_cast<unsigned long>(n), round + 1);
  }
  log.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
