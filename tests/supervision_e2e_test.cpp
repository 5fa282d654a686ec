// End to end: the dispatcher, then the journal, are killed (as an exception
// escaping a handler would: POST /api/test/crash) while webhooks arrive
// from several connections. callq stays up, refuses with 503 while it
// rebuilds every actor from the log, never answers 2xx for a call that is
// not in the log, then dispatches again in the log's order.
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/gateway/gateway_options.hpp"
#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq;
using namespace callq::testing;
using json = nlohmann::json;

namespace {

/// Voice webhooks from `connections` connections of their own until told
/// to stop; records which CallSids were answered 200 and how many 503.
struct webhook_load {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<std::string> acknowledged;
  std::atomic<int> refused{0}, other{0};
  std::vector<std::string> other_answers;  ///< neither 200 nor 503: status and body
  double slowest = 0;                      ///< seconds, the slowest answer
  std::vector<std::thread> threads;

  webhook_load(int port, int connections) {
    for (int c = 0; c < connections; ++c)
      threads.emplace_back([this, port, c] {
        httplib::Client cli("127.0.0.1", port);
        cli.set_keep_alive(true);
        cli.set_tcp_nodelay(true);  // no 40 ms Nagle wait between headers and body
        // Long enough to see a request that waits for the whole ask
        // timeout (10 s) instead of being answered at the crash.
        cli.set_read_timeout(14, 0);
        for (int i = 0; !stop; ++i) {
          std::string sid = "CAload" + std::to_string(c) + "x" + std::to_string(i);
          auto sent_at = std::chrono::steady_clock::now();
          auto r = signed_webhook(cli, "voice", "", twilio_call(sid));
          double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - sent_at).count();
          {
            std::lock_guard lock(mu);
            slowest = std::max(slowest, took);
          }
          if (r.status == 200) {
            std::lock_guard lock(mu);
            acknowledged.insert(sid);
          } else if (r.status == 503) {
            ++refused;
          } else {
            ++other;
            std::lock_guard lock(mu);
            other_answers.push_back(std::to_string(r.status) + " " + r.body);
          }
        }
      });
  }
  void finish() {
    stop = true;
    for (auto& t : threads)
      t.join();
  }
  size_t count() {
    std::lock_guard lock(mu);
    return acknowledged.size();
  }
};

/// Waits (by asking, no sleeping) until `n` more calls are acknowledged.
bool acknowledged_grows(webhook_load& load, size_t n, double seconds) {
  size_t from = load.count();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline)
    if (load.count() >= from + n)
      return true;
  return false;
}

}  // namespace

TEST_CASE("e2e: the dispatcher, then the journal, killed under webhook load: rebuilt from the log at once, nothing acknowledged lost, dispatching goes on") {
  temp_dir dir;
  fake_twilio tw;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"CALLQ_VIRTUAL_CLOCK", "true"}});
  REQUIRE(p.ready());
  webhook_load load(p.port(), 4);
  REQUIRE(acknowledged_grows(load, 200, 30));
  for (const char* actor : {"dispatcher", "journal"}) {
    INFO(actor);
    auto r = p.json_request("POST", "/api/test/crash", admin_token, {{"actor", actor}});
    REQUIRE(r.status == 200);
    // It rebuilds by itself (the watcher, at once) and takes calls again.
    REQUIRE(acknowledged_grows(load, 200, 30));
  }
  load.finish();
  INFO((load.other_answers.empty() ? std::string() : "first other answer: " + load.other_answers[0]));
  INFO("slowest answer " << load.slowest << " s");
  CHECK(load.other == 0);
  // A request caught by a crash is answered 503 when the runtime next looks
  // (every 100 ms), not after the 10 s ask timeout, and the rebuild does
  // not wait for it.
  CHECK(load.slowest < 2);
  auto metrics = p.json_request("GET", "/metrics", "");
  CHECK(metrics.body.find("callq_storage_recoveries_total 2") != std::string::npos);
  CHECK(json::parse(p.json_request("GET", "/healthz", "").body)["status"] == "ok");

  // Every call answered 200 waits in the queue (nothing acknowledged was
  // lost), in the order they were taken.
  auto status = p.admin_get("/api/queue/status");
  std::set<std::string> waiting;
  for (auto& w : status["queues"][0]["waiting"])
    waiting.insert(w["callSid"].get<std::string>());
  for (auto& sid : load.acknowledged)
    CHECK(waiting.count(sid) == 1);

  // Dispatching works: a ready agent is offered the first call in line.
  std::string first = status["queues"][0]["waiting"][0]["callSid"];
  auto put = p.json_request("PUT", "/api/agents/alice", admin_token,
                            {{"displayName", "Alice"}, {"clientIdentity", "alice"}});
  REQUIRE(put.status == 201);
  std::string token = json::parse(put.body)["token"];
  auto hb = p.json_request("POST", "/api/agent-heartbeat", token,
                           {{"agentId", "alice"}, {"status", "available"}, {"deviceRegistered", true}});
  REQUIRE(hb.status == 200);
  CHECK(tw.wait_for([&](const std::vector<rest_request>& rs) {
    for (auto& r : rs)
      if (r.path.find("/Calls/" + first + ".json") != std::string::npos)
        return true;
    return false;
  }));
  CHECK(p.terminate() == 0);
}

TEST_CASE("e2e: an actor crashes and rebuilding from the log fails: callq does not keep answering ok, it exits 1 for systemd to restart it, and a restart serves every acknowledged call") {
  temp_dir dir;
  fake_twilio tw;
  std::vector<std::string> acknowledged;
  {
    callq_process p(dir.path() + "/data", tw.base_url(), {{"CALLQ_VIRTUAL_CLOCK", "true"}});
    REQUIRE(p.ready());
    for (int i = 0; i < 5; ++i) {
      std::string sid = "CAfatal" + std::to_string(i);
      auto r = p.webhook("voice", "", {{"AccountSid", "ACtest"}, {"CallSid", sid},
                                       {"From", "+1555123000" + std::to_string(i)}, {"To", "+15559990000"}});
      REQUIRE(r.status == 200);
      acknowledged.push_back(sid);
    }
    CHECK(json::parse(p.json_request("GET", "/healthz", "").body)["status"] == "ok");
    auto bad = p.json_request("POST", "/api/test/crash", admin_token,
                              {{"actor", "dispatcher"}, {"failRebuild", "yes"}});
    CHECK(bad.status == 400);
    auto r = p.json_request("POST", "/api/test/crash", admin_token,
                            {{"actor", "dispatcher"}, {"failRebuild", true}});
    REQUIRE(r.status == 200);
    // The watcher tries at once, fails, and the process stops by itself.
    CHECK(p.wait_exit(30'000) == 1);
  }
  // Restarted (as systemd would), it rebuilds from the log: nothing lost.
  callq_process p(dir.path() + "/data", tw.base_url(), {{"CALLQ_VIRTUAL_CLOCK", "true"}});
  REQUIRE(p.ready());
  CHECK(json::parse(p.json_request("GET", "/healthz", "").body)["status"] == "ok");
  auto status = p.admin_get("/api/queue/status");
  std::vector<std::string> waiting;
  for (auto& w : status["queues"][0]["waiting"])
    waiting.push_back(w["callSid"].get<std::string>());
  CHECK(waiting == acknowledged);
}
