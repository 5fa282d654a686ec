// failover_bench: leader failover time on a shared PostgreSQL log (README,
// "High availability"). Two `callq serve` processes on one database; the
// leader gets --calls voice webhooks (all left waiting); once the
// follower's warm state shows them all, the leader is SIGKILLed and a
// webhook is sent to the follower, again and again, until it is answered
// 200 (as Twilio retries). Prints the time from the kill to that answer,
// and to the follower's /healthz/leader answering 200.
//
//   failover_bench --store=postgresql://... [--calls=10000] [--runs=3]
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"
#include "storage/pg_connection.hpp"
#include "tests/spawn_server.hpp"

using namespace callq;
using clk = std::chrono::steady_clock;

namespace {

testing::spawned_server start(const std::string& store, const std::string& dir) {
  return testing::spawn_callq(bench::callq_binary(CALLQ_BINARY), {{"CALLQ_PORT", "0"},
                                             {"CALLQ_DATA_DIR", dir},
                                             {"CALLQ_ADMIN_TOKEN", "bench"},
                                             {"CALLQ_STORE", store},
                                             {"CALLQ_VIRTUAL_CLOCK", "true"},
                                             {"TWILIO_ACCOUNT_SID", "ACbench"},
                                             {"TWILIO_API_BASE", "http://127.0.0.1:9"},
                                             {"CALLQ_HTTP_THREADS", "16"}});
}

int status_of(httplib::Client& c, const std::string& path) {
  auto r = c.Get(path.c_str());
  return r ? r->status : 0;
}

bool voice(httplib::Client& c, const std::string& sid) {
  auto r = c.Post("/api/webhooks/twilio/voice",
                  "CallSid=" + sid + "&From=%2B15551230000&To=%2B15559990000&CallStatus=in-progress",
                  "application/x-www-form-urlencoded");
  return r && r->status == 200;
}

long waiting_count(httplib::Client& c) {
  auto r = c.Get("/api/queue/status?waiting=0", {{"Authorization", "Bearer bench"}});
  if (!r || r->status != 200)
    return -1;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  long n = 0;
  for (auto& q : j["queues"])
    n += q.value("waitingCount", 0L);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string store = bench::sarg(argc, argv, "store", "");
  long calls = bench::arg(argc, argv, "calls", 10'000);
  long runs = bench::arg(argc, argv, "runs", 3);
  if (store.empty()) {
    std::fprintf(stderr, "failover_bench: --store=postgresql://... is required (bench/pg_append.sh starts one)\n");
    return 2;
  }
  std::printf("failover_bench: %ld waiting calls, leader SIGKILLed, %ld runs\n", calls, runs);
  std::string base = (std::filesystem::temp_directory_path() / "callq-failover-bench").string();
  for (long run = 1; run <= runs; ++run) {
    {
      std::unique_ptr<storage::pg_connection> c;
      if (storage::pg_connection::connect(store, &c))
        c->exec_script("DROP TABLE IF EXISTS callq_events, callq_idempotency, callq_snapshots, "
                       "callq_meta, callq_leader");
    }
    std::filesystem::remove_all(base);
    auto a = start(store, base + "/a");
    if (a.port == 0)
      return 1;
    httplib::Client ca("127.0.0.1", a.port);
    for (int i = 0; i < 500 && status_of(ca, "/healthz/leader") != 200; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto b = start(store, base + "/b");
    if (b.port == 0)
      return 1;
    httplib::Client cb("127.0.0.1", b.port);
    cb.set_connection_timeout(1, 0);
    auto t_fill = clk::now();
    for (long i = 0; i < calls; ++i)
      if (!voice(ca, "CA" + std::to_string(run) + "x" + std::to_string(i)))
        return 1;
    double fill_s = bench::seconds_since(t_fill);
    while (waiting_count(cb) < calls)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto t0 = clk::now();
    kill(a.pid, SIGKILL);
    double led_ms = -1;
    long tries = 0;
    std::string sid = "CAafter" + std::to_string(run);
    for (;;) {
      ++tries;
      if (led_ms < 0 && status_of(cb, "/healthz/leader") == 200)
        led_ms = bench::seconds_since(t0) * 1000;
      if (voice(cb, sid))
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    double answered_ms = bench::seconds_since(t0) * 1000;
    if (led_ms < 0)
      led_ms = answered_ms;
    long after = waiting_count(cb);
    std::printf("  run %ld: %ld calls queued in %.1f s; kill -> leading %.0f ms, -> first webhook "
                "answered 200 %.0f ms (%ld tries); %ld calls waiting after\n",
                run, calls, fill_s, led_ms, answered_ms, tries, after);
    testing::stop_child(a.pid, SIGKILL);
    testing::stop_child(b.pid, SIGTERM);
  }
  std::filesystem::remove_all(base);
  return 0;
}
