// The front door with a request processor of its own: lingering workers
// serve their connection's next request, and give way when others wait.
#include "http/front_door.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>

using namespace callq::http;
using clk = std::chrono::steady_clock;

namespace {

/// Answers "ok" to every request; one for /api/webhooks/twilio/block waits
/// until released. (Twilio's group may use every thread.)
struct blocking_processor {
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  int blocked = 0;

  bool operator()(httplib::Stream& strm, bool, bool&) {
    std::string req;
    char buf[4096];
    while (strm.is_readable()) {
      auto n = strm.read(buf, sizeof buf);
      if (n <= 0)
        break;
      req.append(buf, static_cast<size_t>(n));
    }
    if (req.rfind("GET /api/webhooks/twilio/block ", 0) == 0) {
      std::unique_lock lock(mu);
      ++blocked;
      cv.notify_all();
      cv.wait(lock, [&] { return released; });
    }
    static const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    return strm.write(answer.data(), answer.size()) == static_cast<ssize_t>(answer.size());
  }
  void wait_blocked(int n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return blocked >= n; });
  }
  void release() {
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  }
};

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

void send_get(int fd, const std::string& path) {
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size()));
}

/// Reads one "ok" answer (the processor's only one).
void read_ok(int fd) {
  std::string got;
  char buf[256];
  while (got.find("\r\n\r\nok") == std::string::npos) {
    auto n = ::recv(fd, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    got.append(buf, static_cast<size_t>(n));
  }
  CHECK(got.rfind("HTTP/1.1 200", 0) == 0);
}

/// A front door on a free loopback port, run on its own thread.
struct running_door {
  explicit running_door(front_door_settings s, request_processor p) : door(s, std::move(p)) {
    REQUIRE(door.bind("127.0.0.1", 0, &port));
    thread = std::thread([this] { door.run(); });
  }
  ~running_door() {
    door.stop();
    thread.join();
  }
  front_door door;
  int port = 0;
  std::thread thread;
};

}  // namespace

TEST_CASE("front door: a worker serves its kept-alive connection's next request itself") {
  blocking_processor proc;
  front_door_settings s;
  s.threads = 8;
  // Long enough that a test thread held off the cores by the suite's other
  // processes still sends its next request within it (the close at the
  // end and the door's stop end the linger at once).
  s.linger_ms = 10000;
  running_door d(s, [&](httplib::Stream& st, bool c, bool& closed) { return proc(st, c, closed); });
  // A worker lingers only while more than 2 others are idle: wait for
  // every worker to have started (on a loaded machine a thread can start
  // late, and a request then comes through the reactor instead).
  auto started_by = clk::now() + std::chrono::seconds(10);
  while (d.door.figures().idle_workers < s.threads && clk::now() < started_by)
    std::this_thread::yield();
  REQUIRE(d.door.figures().idle_workers == s.threads);
  int fd = connect_to(d.port);
  for (int i = 0; i < 10; ++i) {
    send_get(fd, "/api/webhooks/twilio/fast");
    read_ok(fd);
  }
  uint64_t before = d.door.figures().served_lingering;
  for (int i = 0; i < 10; ++i) {
    send_get(fd, "/api/webhooks/twilio/fast");
    read_ok(fd);
  }
  CHECK(d.door.figures().served_lingering - before == 10);
  ::close(fd);
}

TEST_CASE("front door: a request that no idle worker can take calls the lingering ones back at once") {
  blocking_processor proc;
  front_door_settings s;
  s.threads = 4;      // a worker lingers only while more than 2 others are idle
  s.linger_ms = 5000;  // were it not called back, the request would wait this long
  running_door d(s, [&](httplib::Stream& st, bool c, bool& closed) { return proc(st, c, closed); });
  // One worker answers and lingers on its connection (3 others idle).
  int lingered = connect_to(d.port);
  send_get(lingered, "/api/webhooks/twilio/fast");
  read_ok(lingered);
  // The other three are held by requests that block.
  std::vector<int> blockers;
  for (int i = 0; i < 3; ++i) {
    blockers.push_back(connect_to(d.port));
    send_get(blockers.back(), "/api/webhooks/twilio/block");
  }
  proc.wait_blocked(3);
  // No worker is idle now: this request waits, and the lingering worker is
  // called back to serve it.
  int late = connect_to(d.port);
  auto t0 = clk::now();
  send_get(late, "/api/webhooks/twilio/fast");
  read_ok(late);
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(clk::now() - t0).count();
  INFO("the waiting request was answered after " << waited << " ms");
  CHECK(waited < 2500);
  proc.release();
  for (int fd : blockers) {
    read_ok(fd);
    ::close(fd);
  }
  // The called-back worker gave its connection to the reactor, which
  // still serves it.
  send_get(lingered, "/api/webhooks/twilio/fast");
  read_ok(lingered);
  ::close(lingered);
  ::close(late);
}
