// webhook_load: signed, durably logged incoming-call webhooks against the
// real `callq serve`, from C concurrent keep-alive connections, and the
// same client against a trivial fixed answer (GET /healthz) of the same
// server as the reference.
//
// The webhook run is repeated with --stalled (default 1,000) connections
// held open beside it from 50 loopback addresses (127.0.0.2 and up), half
// stalled in their headers, half in their body, reopened as soon as the
// server closes them, as a slowloris attacker would.
//
// Then once more beside --streams (default 20) open live streams
// (GET /api/stream?waiting=N, N from --stream-waiting: default 8, as the
// wallboard asks; -1 lists every waiting call), each reading every update
// the load causes.
//
//   webhook_load [--connections=64] [--seconds=10] [--stalled=1000] [--streams=20]
//                [--stream-waiting=8]
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <memory>
#include <string_view>
#include <thread>

#include <httplib.h>

#include "actors/gateway/gateway_options.hpp"
#include "bench/bench_util.hpp"
#include "bench/twilio_side.hpp"
#include "http/signature.hpp"
#include "tests/raw_clients.hpp"
#include "tests/spawn_server.hpp"

using namespace callq;
using clk = std::chrono::steady_clock;

namespace {

const char* const token = bench::twilio_token;
const char* const base = bench::public_base;

struct load_result {
  double seconds = 0;
  uint64_t ok = 0, failed = 0;
  std::vector<double> latencies_ms;
};

load_result run(int port, long connections, long seconds, bool webhook) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> lat(static_cast<size_t>(connections));
  std::vector<uint64_t> ok(static_cast<size_t>(connections)), failed(static_cast<size_t>(connections));
  std::vector<std::thread> threads;
  static std::atomic<uint64_t> call_no{0};
  auto t0 = clk::now();
  for (long c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      httplib::Client cli("127.0.0.1", port);
      cli.set_keep_alive(true);
      cli.set_tcp_nodelay(true);
      cli.set_read_timeout(30, 0);
      auto& mine = lat[static_cast<size_t>(c)];
      while (!stop.load(std::memory_order_relaxed)) {
        auto start = clk::now();
        httplib::Result res{nullptr, httplib::Error::Unknown};
        if (webhook) {
          std::string sid = "CA" + std::to_string(1'000'000'000'000 + call_no.fetch_add(1)) + "abcdef0123456789abcd";
          http::form_fields f = {{"AccountSid", "ACbench"}, {"CallSid", sid}, {"CallStatus", "ringing"},
                                 {"Direction", "inbound"}, {"From", "+15551234567"}, {"To", "+15559990000"}};
          std::string body;
          for (auto& [k, v] : f)
            body += (body.empty() ? "" : "&") + k + "=" + form_encode(v);
          httplib::Headers h = {{"X-Twilio-Signature",
                                 http::twilio_signature(token, std::string(base) + "/api/webhooks/twilio/voice", f)}};
          res = cli.Post("/api/webhooks/twilio/voice", h, body, "application/x-www-form-urlencoded");
        } else {
          res = cli.Get("/healthz");
        }
        double ms = std::chrono::duration<double, std::milli>(clk::now() - start).count();
        if (res && res->status == 200) {
          ++ok[static_cast<size_t>(c)];
          mine.push_back(ms);
        } else {
          ++failed[static_cast<size_t>(c)];
          if (failed[static_cast<size_t>(c)] == 1)
            std::fprintf(stderr, "request failed: %s\n",
                         res ? ("HTTP " + std::to_string(res->status) + " " + res->body).c_str()
                             : httplib::to_string(res.error()).c_str());
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  load_result r;
  r.seconds = bench::seconds_since(t0);
  for (long c = 0; c < connections; ++c) {
    r.ok += ok[static_cast<size_t>(c)];
    r.failed += failed[static_cast<size_t>(c)];
    r.latencies_ms.insert(r.latencies_ms.end(), lat[static_cast<size_t>(c)].begin(), lat[static_cast<size_t>(c)].end());
  }
  return r;
}

/// Keeps `count` stalled connections open until `stop`, reopening each
/// one the server closes; returns how many times it had to reopen.
uint64_t hold_stalled(int port, long count, const std::atomic<bool>& stop, std::atomic<long>* open_now) {
  struct held {
    int fd;
    int address;
    testing::stall kind;
  };
  auto open_one = [port](int address, testing::stall kind) {
    int fd = testing::connect_from(testing::attacker_address(address), port);
    if (fd >= 0 && !testing::send_all(fd, testing::stalled_prefix(kind))) {
      ::close(fd);
      fd = -1;
    }
    return fd;
  };
  std::vector<held> conns;
  for (long i = 0; i < count; ++i) {
    int address = static_cast<int>(i / 20);
    auto kind = i % 2 ? testing::stall::mid_body : testing::stall::mid_headers;
    conns.push_back({open_one(address, kind), address, kind});
  }
  uint64_t reopened = 0;
  while (!stop) {
    std::vector<pollfd> fds;
    long live = 0;
    for (auto& c : conns) {
      fds.push_back({c.fd, POLLIN, 0});
      live += c.fd >= 0;
    }
    open_now->store(live);
    if (::poll(fds.data(), fds.size(), 50) <= 0)
      continue;
    for (size_t i = 0; i < conns.size(); ++i) {
      if (conns[i].fd < 0 || !fds[i].revents)
        continue;
      char buf[1024];
      if (::recv(conns[i].fd, buf, sizeof buf, 0) > 0)
        continue;  // the 408 before the close
      ::close(conns[i].fd);
      conns[i].fd = open_one(conns[i].address, conns[i].kind);
      ++reopened;
    }
  }
  for (auto& c : conns)
    if (c.fd >= 0)
      ::close(c.fd);
  return reopened;
}

/// What the server spent during a run: CPU seconds, context switches and
/// minor page faults (memory touched for the first time: what a server
/// that keeps every waiting call pays per call it holds).
struct server_cost {
  double cpu_s = 0;
  long switches = 0;
  long faults = 0;
};

/// Prints a run's rate and latencies, and the server's CPU time, context
/// switches and page faults per answered request, which the machine's
/// noise moves less than the rate.
void print(const char* what, load_result& r, const server_cost& cost) {
  double n = r.ok > 0 ? static_cast<double>(r.ok) : 1.0;
  std::printf("  %-34s %8.0f req/s   p50 %6.2f ms   p99 %6.2f ms   server CPU %5.1f us/req, %4.2f switches/req, %4.2f faults/req   (%lu ok, %lu failed)\n",
              what, static_cast<double>(r.ok) / r.seconds, bench::percentile(r.latencies_ms, 50),
              bench::percentile(r.latencies_ms, 99), cost.cpu_s * 1e6 / n,
              static_cast<double>(cost.switches) / n, static_cast<double>(cost.faults) / n,
              static_cast<unsigned long>(r.ok),
              static_cast<unsigned long>(r.failed));
}

/// `load` run against `pid`, with what the server spent on it in `*cost`.
template <class Load>
load_result measured(pid_t pid, server_cost* cost, Load load) {
  double cpu = testing::cpu_seconds_of(pid);
  long switches = testing::context_switches_of(pid);
  long faults = testing::minor_faults_of(pid);
  load_result r = load();
  cost->cpu_s = testing::cpu_seconds_of(pid) - cpu;
  cost->switches = testing::context_switches_of(pid) - switches;
  cost->faults = testing::minor_faults_of(pid) - faults;
  return r;
}

}  // namespace

/// A fresh `callq serve` on an empty log (each run starts from the same
/// state: calls left waiting by one run would slow the next).
/// `streams` threads for live streams (the page group holds at most a
/// quarter of the threads).
testing::spawned_server start_server(const std::string& dir, long connections, long streams = 0) {
  std::filesystem::remove_all(dir);
  return testing::spawn_callq(
      bench::callq_binary(CALLQ_BINARY),
      bench::with_tuning(std::map<std::string, std::string>{
          {"CALLQ_PORT", "0"}, {"CALLQ_DATA_DIR", dir}, {"CALLQ_ADMIN_TOKEN", "bench"},
          {"TWILIO_AUTH_TOKEN", token}, {"TWILIO_ACCOUNT_SID", "ACbench"},
          {"TWILIO_API_BASE", "http://127.0.0.1:9"}, {"PUBLIC_BASE_URL", base},
          {"CALLQ_HTTP_THREADS", std::to_string(connections + 8 + 4 * streams)},
          {"CALLQ_STREAM_MAX", std::to_string(std::max(1L, streams))}}));
}

/// Holds `count` live streams open until `stop`; counts the updates read.
void hold_streams(int port, long count, long waiting, const std::atomic<bool>& stop,
                  std::atomic<uint64_t>* updates, std::atomic<long>* open_now) {
  std::string path = "/api/stream?token=bench";
  if (waiting >= 0)
    path += "&waiting=" + std::to_string(waiting);
  std::vector<std::unique_ptr<httplib::Client>> clients;
  std::vector<std::thread> readers;
  for (long i = 0; i < count; ++i) {
    clients.push_back(std::make_unique<httplib::Client>("127.0.0.1", port));
    auto* c = clients.back().get();
    readers.emplace_back([c, &path, &stop, updates, open_now] {
      bool counted = false;
      c->Get(path.c_str(), [&](const char* data, size_t n) {
        std::string_view chunk(data, n);
        if (!counted && chunk.find("event: snapshot") != std::string_view::npos) {
          counted = true;
          open_now->fetch_add(1);
        }
        if (chunk.find("event: update") != std::string_view::npos)
          updates->fetch_add(1);
        return !stop.load();
      });
    });
  }
  while (!stop.load())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (auto& c : clients)
    c->stop();
  for (auto& t : readers)
    t.join();
}

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  long connections = bench::arg(argc, argv, "connections", 64);
  long seconds = bench::arg(argc, argv, "seconds", 10);
  long stalled = bench::arg(argc, argv, "stalled", 1000);
  long streams = bench::arg(argc, argv, "streams", 20);
  long stream_waiting = bench::arg(argc, argv, "stream-waiting", 8);
  testing::raise_fd_limit();
  std::string dir = (std::filesystem::temp_directory_path() / "callq-webhook-load").string();
  std::printf("webhook_load: %ld keep-alive connections, %ld s each, server and client on this machine\n",
              connections, seconds);
  auto server = start_server(dir, connections);
  if (server.port == 0) {
    std::fprintf(stderr, "callq did not start\n");
    return 1;
  }
  server_cost cost;
  auto hooks = measured(server.pid, &cost, [&] { return run(server.port, connections, seconds, true); });
  print("signed voice webhooks, logged", hooks, cost);
  testing::stop_child(server.pid, SIGTERM);
  if (stalled > 0) {
    server = start_server(dir, connections);
    std::atomic<bool> stop{false};
    std::atomic<long> open_now{0};
    uint64_t reopened = 0;
    std::thread attacker([&] { reopened = hold_stalled(server.port, stalled, stop, &open_now); });
    while (open_now.load() < stalled * 9 / 10)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto attacked =
        measured(server.pid, &cost, [&] { return run(server.port, connections, seconds, true); });
    long held_at_end = open_now.load();
    stop = true;
    attacker.join();
    char what[64];
    std::snprintf(what, sizeof what, "  same, beside %ld stalled conns", stalled);
    print(what, attacked, cost);
    std::printf("  %-34s %8.1f %% of the rate; %ld stalled connections open at the end, %lu reopened "
                "after the server closed them\n",
                "", 100.0 * (static_cast<double>(attacked.ok) / attacked.seconds) /
                        (static_cast<double>(hooks.ok) / hooks.seconds),
                held_at_end, static_cast<unsigned long>(reopened));
    testing::stop_child(server.pid, SIGTERM);
  }
  if (streams > 0) {
    server = start_server(dir, connections, streams);
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> updates{0};
    std::atomic<long> open_now{0};
    std::thread watchers([&] { hold_streams(server.port, streams, stream_waiting, stop, &updates, &open_now); });
    while (open_now.load() < streams)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto watched =
        measured(server.pid, &cost, [&] { return run(server.port, connections, seconds, true); });
    stop = true;
    watchers.join();
    char what[64];
    std::snprintf(what, sizeof what, "  same, beside %ld live streams (waiting=%ld)", streams,
                  stream_waiting);
    print(what, watched, cost);
    std::printf("  %-34s %8.1f %% of the rate; the streams read %lu updates (%.1f per stream per second)\n",
                "", 100.0 * (static_cast<double>(watched.ok) / watched.seconds) /
                        (static_cast<double>(hooks.ok) / hooks.seconds),
                static_cast<unsigned long>(updates.load()),
                static_cast<double>(updates.load()) / static_cast<double>(streams) / watched.seconds);
    testing::stop_child(server.pid, SIGTERM);
  }
  server = start_server(dir, connections);
  auto ref = measured(server.pid, &cost, [&] { return run(server.port, connections, seconds, false); });
  print("reference: GET /healthz", ref, cost);
  int code = testing::stop_child(server.pid, SIGTERM);
  std::printf("  server stopped with exit code %d\n", code);
  std::filesystem::remove_all(dir);
  return 0;
}
