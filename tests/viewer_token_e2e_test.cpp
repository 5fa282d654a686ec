// End-to-end: the read-only viewer token (CALLQ_VIEWER_TOKEN; README,
// "Viewer token") and what it reads (the status view, the reports)
// through the real `callq serve`.
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using nlohmann::json;

namespace {

const std::string viewer_token = "e2e-viewer-token";

struct admin_path {
  const char* method;
  const char* path;
  json body;
};

}  // namespace

TEST_CASE("e2e: the viewer token reads the status and gets 403 on every other admin path, changing nothing") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"CALLQ_VIEWER_TOKEN", viewer_token}});
  REQUIRE(p.ready());
  create_agent(p, "alice", {"support"});
  REQUIRE(p.webhook("voice", "", {{"CallSid", "CA1"}, {"AccountSid", "ACtest"}, {"From", "+15551230001"},
                                  {"To", "+15559990000"}, {"CallStatus", "in-progress"}})
              .status == 200);
  size_t events_before = p.event_count();

  // Every admin path, reads included (the contract: "every other admin path
  // answers it 403").
  std::vector<admin_path> paths = {
      {"PUT", "/api/agents/bob", json{{"queues", {"support"}}}},
      {"DELETE", "/api/agents/alice", nullptr},
      {"PUT", "/api/callers/+15551234567", json{{"name", "Ada"}, {"priority", 3}}},
      {"POST", "/api/callbacks", json{{"number", "+15551234567"}}},
      {"GET", "/api/callbacks", nullptr},
      {"DELETE", "/api/callbacks/CB1", nullptr},
      {"PUT", "/api/queues/sales", json{{"maxWaiting", 3}}},
      {"GET", "/api/queues", nullptr},
      {"GET", "/api/queues/support", nullptr},
      {"DELETE", "/api/queues/support", nullptr},
      {"GET", "/api/calls/CA1/timeline", nullptr},
      {"GET", "/api/audit/export?format=jsonl", nullptr},
      {"POST", "/api/cron/queue-processor", nullptr},
      {"POST", "/api/cron/heartbeat-cleanup", nullptr},
      {"POST", "/api/cron/queue-cleanup", nullptr},
      {"POST", "/api/test/clock", json{{"advanceMs", 1000}}},
  };
  for (auto& a : paths) {
    auto r = p.json_request(a.method, a.path, viewer_token, a.body);
    INFO(a.method << " " << a.path << " -> " << r.status << " " << r.body);
    CHECK(r.status == 403);
    CHECK(r.body.find("read-only") != std::string::npos);
    // The admin token is still what those paths answer to.
    CHECK(p.json_request(a.method, a.path, "not-a-token", a.body).status == 401);
  }
  CHECK(p.event_count() == events_before);  // nothing changed
  CHECK(p.admin_get("/api/queues/support")["configured"] == false);

  // The status view: the viewer token as a bearer token or as ?token=.
  auto status = p.json_request("GET", "/api/queue/status", viewer_token);
  CHECK(status.status == 200);
  CHECK(json::parse(status.body)["queues"][0]["waiting"].size() == 1);
  CHECK(p.json_request("GET", "/api/queue/status?token=" + viewer_token, "").status == 200);
  CHECK(p.json_request("GET", std::string("/api/queue/status?token=") + admin_token, "").status == 200);
  // ?waiting=N lists the first N waiting calls; waitingCount counts them all.
  auto few = p.json_request("GET", "/api/queue/status?waiting=0", viewer_token);
  REQUIRE(few.status == 200);
  CHECK(json::parse(few.body)["queues"][0]["waiting"].empty());
  CHECK(json::parse(few.body)["queues"][0]["waitingCount"] == 1);
  CHECK(json::parse(status.body)["queues"][0]["waitingCount"] == 1);
  for (auto bad : {"-1", "x", "100001"}) {
    auto r = p.json_request("GET", std::string("/api/queue/status?waiting=") + bad, viewer_token);
    CHECK(r.status == 400);
    CHECK(r.body.find("waiting must be") != std::string::npos);
  }
  // An agent's time in its state (alice: offline since she was created).
  CHECK(json::parse(status.body)["agents"][0]["state"] == "offline");
  CHECK(json::parse(status.body)["agents"][0]["stateSeconds"] == 0);
  CHECK(p.json_request("GET", "/api/queue/status?token=wrong", "").status == 401);
  CHECK(p.json_request("GET", "/api/queue/status", "").status == 401);

  // The reports too: figures computed from the log.
  auto report = p.json_request("GET", "/api/reports/queues?interval=1d", viewer_token);
  INFO(report.body);
  REQUIRE(report.status == 200);
  auto r = json::parse(report.body);
  CHECK(r["interval"] == "1d");
  REQUIRE(r["queues"].size() == 1);
  CHECK(r["queues"][0]["queue"] == "support");
  CHECK(r["queues"][0]["total"]["offered"] == 1);
  CHECK(r["queues"][0]["total"]["answered"] == 0);
  CHECK(p.json_request("GET", "/api/reports/queues?token=" + viewer_token + "&queue=sales", "").status == 200);
  CHECK(p.json_request("GET", "/api/reports/queues?interval=2h", viewer_token).status == 400);
  CHECK(p.json_request("GET", "/api/reports/queues?from=yesterday", viewer_token).status == 400);
  CHECK(p.json_request("GET", "/api/reports/queues", "").status == 401);
  CHECK(p.terminate() == 0);
}

TEST_CASE("e2e: without CALLQ_VIEWER_TOKEN only the admin token reads the status") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  CHECK(p.json_request("GET", "/api/queue/status", viewer_token).status == 401);
  CHECK(p.json_request("GET", "/api/queue/status?token=", "").status == 401);
  CHECK(p.json_request("GET", "/api/queue/status", admin_token).status == 200);
}

namespace {

/// Reads a live stream in a thread of its own until `stop` or the server ends it.
struct stream_reader {
  std::mutex mu;
  std::string text;
  int status = 0;
  std::atomic<bool> stop{false};
  httplib::Client client;
  std::thread th;
  stream_reader(int port, const std::string& path) : client("127.0.0.1", port) {
    client.set_read_timeout(30, 0);
    th = std::thread([this, path] {
      auto& c = client;
      auto r = c.Get(path.c_str(), [this](const httplib::Response& res) {
        std::lock_guard<std::mutex> lock(mu);
        status = res.status;
        return true;
      }, [this](const char* data, size_t n) {
        std::lock_guard<std::mutex> lock(mu);
        text.append(data, n);
        return !stop.load();
      });
      std::lock_guard<std::mutex> lock(mu);
      if (r && status == 0)
        status = r->status;
    });
  }
  ~stream_reader() {
    stop = true;
    client.stop();  // closes the socket: the reading thread returns at once
    if (th.joinable())
      th.join();
  }
  /// Waits (up to `ms` of real time) until the text holds `part`.
  bool wait_for(const std::string& part, int ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      {
        std::lock_guard<std::mutex> lock(mu);
        if (text.find(part) != std::string::npos)
          return true;
      }
      std::this_thread::yield();
    }
    return false;
  }
};

}  // namespace

TEST_CASE("e2e: the live stream sends a snapshot, then an update within a second of a change, and a stream beyond the cap is 503") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(),
                  {{"CALLQ_VIEWER_TOKEN", viewer_token}, {"CALLQ_STREAM_MAX", "1"}});
  REQUIRE(p.ready());
  {
    stream_reader s(p.port(), "/api/stream?token=" + viewer_token);
    REQUIRE(s.wait_for("event: snapshot\ndata: {", 5000));
    // The cap: a second stream is refused with a reason.
    auto second = p.json_request("GET", "/api/stream", viewer_token);
    CHECK(second.status == 503);
    CHECK(second.body.find("CALLQ_STREAM_MAX") != std::string::npos);
    CHECK(p.json_request("GET", "/api/stream", "").status == 401);
    // A call comes in: the stream shows it within a second, no reload.
    auto start = std::chrono::steady_clock::now();
    REQUIRE(p.webhook("voice", "", {{"CallSid", "CAlive"}, {"AccountSid", "ACtest"}, {"From", "+15551230001"},
                                    {"To", "+15559990000"}, {"CallStatus", "in-progress"}})
                .status == 200);
    CHECK(s.wait_for("event: update\ndata: ", 1000));
    CHECK(s.wait_for("\"callSid\":\"CAlive\"", 1000));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  }
  // The first stream closed: its slot is free again.
  bool reopened = false;
  for (int i = 0; i < 50 && !reopened; ++i) {
    stream_reader again(p.port(), "/api/stream?token=" + viewer_token);
    reopened = again.wait_for("event: snapshot", 2000);
  }
  CHECK(reopened);
  CHECK(p.terminate() == 0);  // a clean stop ends open streams
}
