// simulate_bench: how fast `callq simulate` is, and how closely a
// simulation with the actual staffing reproduces histories it did not
// make (README, "What-if and staffing"; bench/README.md).
//
// Speed: a week of 10,000 calls a day on 20 agents (Poisson arrivals
// round the clock, exponential handle times of 150 s and patience of
// 300 s: a load of 0.87 per agent). The week is made by the simulation
// engine with those draws and written to a RocksDB log as the server
// would have written it; then `simulate_period` (what `callq simulate`
// runs: reading the log, replaying the callers, both reports) is timed.
//
// Fidelity: histories made by callq's real runtime (actor harness) with a
// scripted Twilio in which agents let some offers ring out -- something
// the simulation does not model -- replayed with their own staffing:
// per hour, the service level's difference in points, ASA's and the
// abandoned count's relative difference.
//
// Usage: simulate_bench [--calls-per-day=10000] [--days=7] [--agents=20]
//                       [--fidelity-calls=2000]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "bench/bench_util.hpp"
#include "events/codec.hpp"
#include "replay/what_if.hpp"
#include "tests/generated_history.hpp"

using namespace callq;
using namespace callq::replay;
using clk = std::chrono::steady_clock;

namespace {

double seconds_since(clk::time_point t) { return std::chrono::duration<double>(clk::now() - t).count(); }

/// Writes a week made by the engine to a RocksDB log in `dir`; returns
/// the period.
report_options write_week(const std::string& dir, long per_day, long days, long agents, policy rules) {
  std::filesystem::remove_all(dir);
  std::unique_ptr<storage::event_log> log;
  if (!storage::event_log::open_data_dir(dir, {}, &log)) {
    std::fprintf(stderr, "cannot open %s\n", dir.c_str());
    std::exit(1);
  }
  sim_input in;
  in.from_ms = 1'795'392'000'000;  // 2026-11-23T00:00:00Z, a Monday
  in.to_ms = in.from_ms + days * 86'400'000;
  for (long a = 0; a < agents; ++a) {
    std::string id = "a" + std::to_string(a);
    in.actions.push_back({in.from_ms, cmd::put_agent{id, id, "client:" + id, "hash-" + id, {"support"}, {}, {}, {}}});
    in.actions.push_back({in.from_ms, cmd::heartbeat{id, "hash-" + id, "available", true}});
  }
  std::mt19937_64 rng(42);
  std::exponential_distribution<double> gap(static_cast<double>(per_day) / 86'400'000.0);
  std::exponential_distribution<double> handle(1 / 150'000.0), patience(1 / 300'000.0);
  std::uniform_int_distribution<int64_t> ring(1'000, 6'000);
  sim_draws d;
  double t = static_cast<double>(in.from_ms);
  for (long i = 0;; ++i) {
    t += gap(rng);
    if (t >= static_cast<double>(in.to_ms))
      break;
    sim_caller c;
    c.at_ms = static_cast<int64_t>(t);
    c.call = cmd::incoming_call{"CA" + std::to_string(i), "+1555" + std::to_string(1'000'000 + i % 50'000),
                                "+15559999999", "support", "", std::nullopt};
    in.callers.push_back(c);
    d.patience_ms.push_back(static_cast<int64_t>(patience(rng)) + 1);
    d.handle_ms.push_back(static_cast<int64_t>(handle(rng)) + 1'000);
    d.ring_ms.push_back(ring(rng));
  }
  std::vector<events::event> batch;
  auto flush = [&] {
    uint64_t first = 0;
    if (!batch.empty() && !log->append(batch, {}, false, &first)) {
      std::fprintf(stderr, "append failed\n");
      std::exit(1);
    }
    batch.clear();
  };
  // The engine decides every event the server would have logged.
  run_simulation(in, rules, d, 1, [&](const std::string&, const events::event& e) {
    batch.push_back(e);
    if (batch.size() >= 20'000)
      flush();
  });
  flush();
  report_options o;
  o.from_ms = in.from_ms;
  o.to_ms = in.to_ms;
  return o;
}

struct fidelity {
  std::vector<double> sl_points, asa_rel, abandoned_rel;
  long hours = 0;
};

/// Replays `r`'s period with its own staffing: per hour with calls, the
/// differences (simulated - actual).
void compare(const what_if_result& r, fidelity* f) {
  for (auto& [q, buckets] : r.past.actual.queues)
    for (auto& [start, a] : buckets) {
      queue_figures s;
      if (auto i = r.simulated.queues.find(q); i != r.simulated.queues.end() && i->second.count(start))
        s = i->second.at(start);
      if (a.offered < 10)
        continue;
      ++f->hours;
      if (a.service_level() >= 0 && s.service_level() >= 0)
        f->sl_points.push_back(std::abs(s.service_level() - a.service_level()) * 100);
      if (a.asa_seconds() > 0)
        f->asa_rel.push_back(std::abs(s.asa_seconds() - a.asa_seconds()) / a.asa_seconds());
      if (a.abandoned > 0)
        f->abandoned_rel.push_back(std::abs(static_cast<double>(s.abandoned - a.abandoned)) /
                                   static_cast<double>(a.abandoned));
    }
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  long per_day = bench::arg(argc, argv, "calls-per-day", 10'000);
  long days = bench::arg(argc, argv, "days", 7);
  long agents = bench::arg(argc, argv, "agents", 20);
  long fidelity_calls = bench::arg(argc, argv, "fidelity-calls", 2'000);
  policy rules = testing::history_policy();

  // Speed.
  std::string dir = (std::filesystem::temp_directory_path() / "callq-simulate-bench").string();
  auto began = clk::now();
  report_options o = write_week(dir, per_day, days, agents, rules);
  std::printf("simulate_bench: a week's log of %ld calls a day on %ld agents written in %.1f s\n", per_day, agents,
              seconds_since(began));
  std::unique_ptr<storage::event_log> log;
  storage::log_options ro;
  ro.read_only = true;
  if (!storage::event_log::open_data_dir(dir, ro, &log))
    return 1;
  std::vector<double> totals, engine;
  what_if_result r;
  for (int run = 0; run < 3; ++run) {
    auto t = clk::now();
    if (auto st = simulate_period(*log, rules, o, what_if{}, &r); !st) {
      std::fprintf(stderr, "simulate: %s\n", st.message().c_str());
      return 1;
    }
    totals.push_back(seconds_since(t));
    engine.push_back(r.seconds);
  }
  queue_figures a, s;
  for (auto& [start, f] : r.past.actual.queues["support"])
    a.add(f);
  for (auto& [start, f] : r.simulated.queues["support"])
    s.add(f);
  std::printf("  callers %lld, events simulated %lld, log events %llu\n", static_cast<long long>(r.stats.callers),
              static_cast<long long>(r.stats.events), static_cast<unsigned long long>(log->last_seq()));
  std::printf("  callq simulate (read log + simulate + reports), median of 3: %.2f s (goal < 5 s)\n",
              bench::percentile(totals, 50));
  std::printf("  of which the simulation and its report: %.2f s\n", bench::percentile(engine, 50));
  std::printf("  week: offered %lld, answered %lld / %lld, abandoned %lld / %lld, service level %.3f / %.3f "
              "(actual / simulated)\n",
              static_cast<long long>(a.offered), static_cast<long long>(a.answered),
              static_cast<long long>(s.answered), static_cast<long long>(a.abandoned),
              static_cast<long long>(s.abandoned), a.service_level(), s.service_level());
  std::printf("  peak RSS %ld MiB\n", bench::rss_kib() / 1024);

  // callq staffing on the same week: Erlang A's agents per hour for 80/20,
  // and the service level the simulation gives with them.
  {
    auto t = clk::now();
    history past;
    std::vector<staffing_row> rows;
    report_options so = o;
    so.service_level_seconds = 20;
    if (!read_history(*log, rules, so, &past) || !plan_staffing(past, rules, so, 0.8, 20, 1, &rows))
      return 1;
    std::vector<double> erlang_sl, sim_sl;
    long below = 0, counted = 0;
    for (auto& row : rows) {
      if (row.offered < 10 || row.simulated_service_level < 0)
        continue;
      ++counted;
      erlang_sl.push_back(row.needed.service_level);
      sim_sl.push_back(row.simulated_service_level);
      below += row.simulated_service_level < 0.8;
    }
    std::printf("  callq staffing --target 0.8/20 on the week: %.2f s; %ld hours, Erlang A's service level median "
                "%.3f, simulated with its agents median %.3f (min %.3f), %ld hours below 0.8\n",
                seconds_since(t), counted, bench::percentile(erlang_sl, 50), bench::percentile(sim_sl, 50),
                sim_sl.empty() ? 0.0 : *std::min_element(sim_sl.begin(), sim_sl.end()), below);
  }

  // Fidelity on histories made by the real runtime.
  std::printf("\nfidelity: histories made by the real runtime (%ld callers each), replayed with their own "
              "staffing; per hour with >= 10 calls, |simulated - actual|: median and max\n",
              fidelity_calls);
  std::printf("%-34s %6s %18s %18s %18s\n", "history", "hours", "SL points", "ASA rel", "abandoned rel");
  struct shape_row {
    const char* name;
    testing::history_shape shape;
  };
  std::vector<shape_row> shapes;
  for (double no_answer : {0.0, 0.05, 0.15}) {
    testing::history_shape sh;
    sh.agents = 10;
    sh.callers = static_cast<int>(fidelity_calls);
    sh.load = 0.95;
    sh.no_answer = no_answer;
    sh.break_every = 3;
    sh.handle_ms = 150'000;
    sh.patience_ms = 300'000;
    shapes.push_back({no_answer == 0 ? "10 agents, every offer answered" : no_answer < 0.1 ? "10 agents, 5% ring out"
                                                                                       : "10 agents, 15% ring out",
                      sh});
  }
  for (auto& [name, sh] : shapes) {
    fidelity f;
    for (uint64_t seed : {1, 2}) {
      sh.seed = seed;
      testing::actor_harness x(rules, static_cast<uint32_t>(seed));
      int64_t from = x.now;
      testing::generate_history(x, sh);
      std::unique_ptr<storage::event_log> l;
      if (!storage::event_log::open_data_dir(x.data_dir(), ro, &l))
        return 1;
      report_options po;
      po.from_ms = from;
      po.to_ms = x.now + 1;
      what_if_result wr;
      if (auto st = simulate_period(*l, rules, po, what_if{}, &wr); !st)
        return 1;
      compare(wr, &f);
    }
    auto stat = [](std::vector<double> v, bool pct) {
      if (v.empty())
        return std::string("-");
      double med = bench::percentile(v, 50), mx = v.back();
      char b[64];
      std::snprintf(b, sizeof b, pct ? "%.1f%% / %.1f%%" : "%.2f / %.2f", pct ? med * 100 : med,
                    pct ? mx * 100 : mx);
      return std::string(b);
    };
    std::printf("%-34s %6ld %18s %18s %18s\n", name, f.hours, stat(f.sl_points, false).c_str(),
                stat(f.asa_rel, true).c_str(), stat(f.abandoned_rel, true).c_str());
  }
  std::filesystem::remove_all(dir);
  return 0;
}
