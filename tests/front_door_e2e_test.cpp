// End to end, the front door: the real `callq serve` on loopback with
// slow, idle and hostile clients beside Twilio's signed webhooks.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/raw_clients.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using clk = std::chrono::steady_clock;

namespace {

std::map<std::string, std::string> inbound(const std::string& sid) {
  return {{"CallSid", sid}, {"AccountSid", "ACtest"}, {"From", "+15551230001"},
          {"To", "+15559990000"}, {"CallStatus", "ringing"}, {"Direction", "inbound"}};
}

double ms_since(clk::time_point t) {
  return std::chrono::duration<double, std::milli>(clk::now() - t).count();
}

double p99(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, v.size() * 99 / 100)];
}

/// `n` signed voice webhooks from 127.0.0.1; their latencies in ms.
std::vector<double> timed_webhooks(callq_process& p, int n, const std::string& prefix) {
  std::vector<double> lat;
  for (int i = 0; i < n; ++i) {
    auto t = clk::now();
    auto r = p.webhook("voice", "", inbound(prefix + std::to_string(i)));
    lat.push_back(ms_since(t));
    INFO("webhook " << i << " answered " << r.status << " " << r.body);
    REQUIRE(r.status == 200);
  }
  return lat;
}

/// The value of a /metrics sample line beginning with `name`.
double metric(callq_process& p, const std::string& name) {
  auto r = p.json_request("GET", "/metrics", "");
  REQUIRE(r.status == 200);
  auto at = r.body.find("\n" + name + " ");
  REQUIRE(at != std::string::npos);
  return std::stod(r.body.substr(at + name.size() + 2));
}

std::string raw_exchange(int port, const std::string& request, int timeout_ms = 5000) {
  int fd = connect_from("127.0.0.1", port);
  REQUIRE(fd >= 0);
  REQUIRE(send_all(fd, request));
  bool closed = false;
  auto out = read_until_close(fd, timeout_ms, &closed);
  ::close(fd);
  return out;
}

/// The p99 bound for webhooks under attack: 500 ms, or three times the
/// same server's p99 with no attacker when its own tail is longer. On the
/// 2-core VM these tests were written on, a durable webhook with no
/// attacker at all shows a p99 of 60-125 ms from run to run (p50 under
/// 1 ms; thread scheduling and fsync, not the front door: see
/// bench/README.md), and the flooding client shares those two cores; CI
/// once saw 215 ms under the admin flood against 96 ms before it, so a
/// tighter bound measures the machine, not callq. Without the front door
/// the same webhooks waited seconds or were never answered, which this
/// bound still catches.
double within_p99_goal(const std::vector<double>& unloaded) { return std::max(500.0, 3 * p99(unloaded)); }


}  // namespace

TEST_CASE("front door: 1,000 stalled connections from 50 addresses do not slow Twilio's webhooks") {
  raise_fd_limit();
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(),
                  {{"CALLQ_HTTP_HEADER_TIMEOUT", "2s"}, {"CALLQ_HTTP_BODY_TIMEOUT", "3s"}});
  REQUIRE(p.ready());
  auto before = timed_webhooks(p, 200, "CAbefore");

  struct stalled {
    int fd;
    stall kind;
    clk::time_point opened;
  };
  std::vector<stalled> conns;
  for (int a = 0; a < 50; ++a) {
    for (int k = 0; k < 20; ++k) {
      auto kind = k % 2 ? stall::mid_body : stall::mid_headers;
      int fd = connect_from(attacker_address(a), p.port());
      REQUIRE(fd >= 0);
      auto opened = clk::now();
      REQUIRE(send_all(fd, stalled_prefix(kind)));
      conns.push_back({fd, kind, opened});
    }
  }
  CHECK(metric(p, "callq_http_connections_open") >= 1000);  // all held, none refused
  CHECK(metric(p, "callq_http_connections_closed_total{reason=\"per_address_cap\"}") == 0);

  // Watch every stalled connection for the server's answer and close.
  std::vector<std::string> got(conns.size());
  std::vector<double> closed_after(conns.size(), -1);
  std::thread watcher([&] {
    auto deadline = clk::now() + std::chrono::seconds(8);
    std::vector<pollfd> fds;
    for (auto& c : conns)
      fds.push_back({c.fd, POLLIN, 0});
    size_t open = conns.size();
    while (open > 0 && clk::now() < deadline) {
      if (::poll(fds.data(), fds.size(), 50) <= 0)
        continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].fd < 0 || !fds[i].revents)
          continue;
        char buf[512];
        auto n = ::recv(fds[i].fd, buf, sizeof buf, 0);
        if (n > 0) {
          got[i].append(buf, static_cast<size_t>(n));
          continue;
        }
        closed_after[i] = ms_since(conns[i].opened);
        fds[i].fd = -1;
        --open;
      }
    }
  });
  auto lat = timed_webhooks(p, 200, "CAunder");
  INFO("webhook p99 " << p99(lat) << " ms with the stalled connections, " << p99(before) << " ms before");
  CHECK(p99(lat) < within_p99_goal(before));
  watcher.join();

  // Every stalled connection is answered 408 and closed within its limit
  // (2 s for headers, 3 s for the body; the server checks every 100 ms).
  size_t closed_in_time = 0, answered_408 = 0;
  for (size_t i = 0; i < conns.size(); ++i) {
    double limit = conns[i].kind == stall::mid_headers ? 2000 : 3000;
    double at = closed_after[i];
    if (at >= limit - 50 && at <= limit + 1000)
      ++closed_in_time;
    else
      UNSCOPED_INFO("stalled " << (conns[i].kind == stall::mid_headers ? "in headers" : "in body")
                               << ": closed after " << at << " ms: " << got[i].substr(0, 40));
    answered_408 += got[i].rfind("HTTP/1.1 408", 0) == 0;
    ::close(conns[i].fd);
  }
  CHECK(closed_in_time == conns.size());
  CHECK(answered_408 == conns.size());
  CHECK(metric(p, "callq_http_connections_closed_total{reason=\"header_timeout\"}") == 500);
  CHECK(metric(p, "callq_http_connections_closed_total{reason=\"body_timeout\"}") == 500);
  CHECK(metric(p, "callq_http_requests_total{group=\"twilio\"}") == 400);
}

TEST_CASE("front door: a flood of admin reads beyond capacity gets 503s while webhooks keep their latency") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"CALLQ_HTTP_THREADS", "4"}});
  REQUIRE(p.ready());
  auto before = timed_webhooks(p, 200, "CAbefore");

  // The flood sends a burst of 100 reads at once (far beyond 3 threads and
  // 8 places in the queue), then waits for the next 10 webhooks before its
  // next burst, so that the client leaves this 2-core machine's CPU to the
  // server; the webhooks start once the flood has had its first 503.
  std::atomic<bool> stop{false};
  std::atomic<size_t> ok{0}, shed{0}, other{0}, retry_after{0};
  std::mutex mu;
  std::condition_variable progress;
  int rounds_done = 0;
  std::thread flood([&] {
    int round = 0;
    const std::string get = "GET /api/queue/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                            std::string(admin_token) + "\r\n\r\n";
    while (!stop) {
      std::vector<int> fds;
      for (int i = 0; i < 100; ++i)
        if (int fd = connect_from(attacker_address(i % 10), p.port()); fd >= 0)
          fds.push_back(fd);
      for (int fd : fds)
        send_all(fd, get);
      for (int fd : fds) {
        pollfd pf{fd, POLLIN, 0};
        std::string got;
        if (::poll(&pf, 1, 5000) == 1) {
          char buf[8192];
          auto n = ::recv(fd, buf, sizeof buf, 0);
          if (n > 0)
            got.assign(buf, static_cast<size_t>(n));
        }
        if (got.rfind("HTTP/1.1 200", 0) == 0)
          ++ok;
        else if (got.rfind("HTTP/1.1 503", 0) == 0) {
          ++shed;
          retry_after += has(got, "Retry-After: 1");
        } else
          ++other;
        ::close(fd);
      }
      std::unique_lock<std::mutex> lock(mu);
      progress.notify_all();  // the first burst's 503s are counted
      ++round;
      progress.wait_for(lock, std::chrono::seconds(10), [&] { return stop || rounds_done >= round; });
    }
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    progress.wait_for(lock, std::chrono::seconds(10), [&] { return shed > 0; });
  }
  REQUIRE(shed > 0);
  std::vector<double> lat;
  for (int r = 0; r < 20; ++r) {
    auto some = timed_webhooks(p, 10, "CAflood" + std::to_string(r) + "-");
    lat.insert(lat.end(), some.begin(), some.end());
    std::lock_guard<std::mutex> lock(mu);
    ++rounds_done;
    progress.notify_all();
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
    progress.notify_all();
  }
  flood.join();
  INFO("admin 200: " << ok << ", 503: " << shed << ", other: " << other << "; webhook p99 " << p99(lat));
  CHECK(shed > 0);
  CHECK(retry_after == shed);
  CHECK(ok > 0);
  CHECK(other == 0);  // every flooded read got an answer, none hung
  INFO("webhook p99 before the flood " << p99(before));
  CHECK(p99(lat) < within_p99_goal(before));
  CHECK(metric(p, "callq_http_requests_shed_total{group=\"admin\"}") == static_cast<double>(shed));
  CHECK(metric(p, "callq_http_requests_shed_total{group=\"twilio\"}") == 0);
}

TEST_CASE("front door: per-address cap, size limits, 100-continue, chunked and pipelined requests") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(),
                  {{"CALLQ_HTTP_MAX_CONNECTIONS_PER_ADDRESS", "3"}, {"CALLQ_HTTP_MAX_BODY_BYTES", "4096"}});
  REQUIRE(p.ready());

  SECTION("a fourth connection from one address is closed at once; other addresses are served") {
    std::vector<int> held;
    for (int i = 0; i < 3; ++i)
      held.push_back(connect_from("127.0.0.77", p.port()));
    int fourth = connect_from("127.0.0.77", p.port());
    REQUIRE(fourth >= 0);
    bool closed = false;
    auto got = read_until_close(fourth, 2000, &closed);
    CHECK(closed);
    CHECK(got.empty());
    ::close(fourth);
    auto other = raw_exchange(p.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    CHECK(other.rfind("HTTP/1.1 200", 0) == 0);
    for (int fd : held)
      ::close(fd);
    CHECK(metric(p, "callq_http_connections_closed_total{reason=\"per_address_cap\"}") == 1);
  }
  SECTION("413 before the body is sent, 431 for huge headers, 400 for bad framing") {
    auto big = raw_exchange(p.port(), "POST /api/agents/a HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    CHECK(big.rfind("HTTP/1.1 413", 0) == 0);
    CHECK(has(big, "request body too large"));
    auto huge = raw_exchange(p.port(), "GET /healthz HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n");
    CHECK(huge.rfind("HTTP/1.1 431", 0) == 0);
    auto bad = raw_exchange(p.port(),
                            "POST /healthz HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
    CHECK(bad.rfind("HTTP/1.1 400", 0) == 0);
  }
  SECTION("Expect: 100-continue gets one interim answer, then the final one") {
    int fd = connect_from("127.0.0.1", p.port());
    std::string body = R"({"status":"available"})";
    REQUIRE(send_all(fd, "PUT /api/agents/ann HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                             std::string(admin_token) +
                             "\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n"));
    pollfd pf{fd, POLLIN, 0};
    REQUIRE(::poll(&pf, 1, 2000) == 1);
    char buf[256];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    CHECK(std::string(buf, static_cast<size_t>(n)) == "HTTP/1.1 100 Continue\r\n\r\n");
    REQUIRE(send_all(fd, body));
    bool closed = false;
    auto rest = read_until_close(fd, 5000, &closed);
    ::close(fd);
    CHECK(rest.rfind("HTTP/1.1 20", 0) == 0);
    CHECK_FALSE(has(rest, "100 Continue"));
  }
  SECTION("a chunked body and two pipelined requests, an empty line between them") {
    auto chunked = raw_exchange(
        p.port(), "PUT /api/agents/bob HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + std::string(admin_token) +
                      "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                      "5\r\n{\"sta\r\n11\r\ntus\":\"available\"}\r\n0\r\n\r\n");
    CHECK(chunked.rfind("HTTP/1.1 20", 0) == 0);
    auto two = raw_exchange(p.port(),
                            "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n\r\n");
    auto first = two.find("HTTP/1.1 200");
    REQUIRE(first != std::string::npos);
    CHECK(two.find("HTTP/1.1 200", first + 1) != std::string::npos);
  }
}

TEST_CASE("front door: kept-alive requests are served by a lingering worker, unless CALLQ_HTTP_LINGER is 0") {
  fake_twilio tw;
  temp_dir dir;
  auto lingering_served = [&](std::map<std::string, std::string> env) {
    callq_process p(dir.path() + "/data", tw.base_url(), std::move(env));
    REQUIRE(p.ready());
    httplib::Client c("127.0.0.1", p.port());
    c.set_keep_alive(true);
    double before = metric(p, "callq_http_requests_served_lingering_total");
    for (int i = 0; i < 20; ++i) {
      auto r = c.Get("/healthz");
      REQUIRE(r);
      CHECK(r->status == 200);
    }
    return metric(p, "callq_http_requests_served_lingering_total") - before;
  };
  CHECK(lingering_served({}) >= 15);  // the default: 20 ms
  CHECK(lingering_served({{"CALLQ_HTTP_LINGER", "0"}}) == 0);
}
