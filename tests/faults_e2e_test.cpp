// End to end: what must survive a SIGKILL besides the events themselves.
// A Twilio retry that carries the same I-Twilio-Idempotency-Token after a
// SIGKILL gets the first answer and appends nothing; and SIGKILL at random
// moments while periodic snapshots are being written never leaves a
// snapshot that a restart would load into a state other than a full
// replay's.
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <sys/wait.h>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using json = nlohmann::json;

namespace {

/// Runs a callq command line; its exit status and stdout.
int run_callq(const std::string& args, std::string* out = nullptr) {
  std::string cmd = std::string(CALLQ_BINARY) + " " + args + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr)
    return -1;
  char buf[4096];
  size_t n;
  std::string text;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    text.append(buf, n);
  int st = pclose(f);
  if (out != nullptr)
    *out = text;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/// How many times the exported log records each call's arrival.
std::map<std::string, int> arrivals(const std::string& data) {
  std::string text;
  REQUIRE(run_callq("export --format jsonl --data-dir " + data, &text) == 0);
  std::map<std::string, int> out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos)
      end = text.size();
    auto j = json::parse(text.substr(at, end - at), nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == "call.arrived")
      ++out[j["data"]["callSid"].get<std::string>()];
    at = end + 1;
  }
  return out;
}

}  // namespace

TEST_CASE("e2e: a Twilio retry with the same idempotency token after SIGKILL gets the first answer and appends nothing") {
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  std::string voice, handler;
  {
    callq_process p(data, tw.base_url());
    REQUIRE(p.ready());
    auto r = p.webhook("voice", "", twilio_call("CA1"), "tok-voice-CA1");
    REQUIRE(r.status == 200);
    voice = r.body;
    r = p.webhook("queue-handler", "", twilio_call("CA1", "+15551230001", {{"QueueResult", "hangup"}}),
                  "tok-handler-CA1");
    REQUIRE(r.status == 200);
    handler = r.body;
    p.kill_hard();
  }
  callq_process p(data, tw.base_url());
  REQUIRE(p.ready());
  size_t before = p.event_count();
  auto r = p.webhook("voice", "", twilio_call("CA1"), "tok-voice-CA1");
  CHECK(r.status == 200);
  CHECK(r.body == voice);
  r = p.webhook("queue-handler", "", twilio_call("CA1", "+15551230001", {{"QueueResult", "hangup"}}),
                "tok-handler-CA1");
  CHECK(r.status == 200);
  CHECK(r.body == handler);
  CHECK(p.event_count() == before);
  CHECK(arrivals(data)["CA1"] == 1);
}

TEST_CASE("e2e: SIGKILL at random moments while snapshots are written every 500 events: every restart equals a full replay, nothing acknowledged lost") {
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  std::map<std::string, std::string> env = {{"CALLQ_SNAPSHOT_EVERY_EVENTS", "500"}};
  std::mt19937 rng(20261202);
  std::vector<std::string> acknowledged;
  for (int round = 0; round < 20; ++round) {
    INFO("round " << round);
    // The restart loads the newest snapshot and the tail; a clean stop
    // then records the digest of that state, which `replay --verify`
    // holds against a full replay of the log.
    {
      callq_process p(data, tw.base_url(), env);
      REQUIRE(p.ready());
      REQUIRE(p.terminate() == 0);
    }
    std::string out;
    CHECK(run_callq("replay --verify --data-dir " + data, &out) == 0);
    INFO(out);
    // Webhooks from two connections; SIGKILL after a random number were
    // acknowledged, with more in flight.
    callq_process p(data, tw.base_url(), env);
    REQUIRE(p.ready());
    size_t kill_after = std::uniform_int_distribution<size_t>(40, 400)(rng);
    std::mutex mu;
    std::condition_variable acked;
    size_t this_round = 0;
    int senders_done = 0;
    std::atomic<bool> stop{false};
    std::vector<std::thread> senders;
    for (int c = 0; c < 2; ++c)
      senders.emplace_back([&, c, port = p.port()] {
        httplib::Client cli("127.0.0.1", port);  // its own: a client is not shared
        cli.set_keep_alive(true);
        cli.set_tcp_nodelay(true);  // no 40 ms Nagle wait between headers and body
        for (int i = 0; !stop; ++i) {
          std::string sid = "CA" + std::to_string(round) + "x" + std::to_string(c) + "x" + std::to_string(i);
          auto r = signed_webhook(cli, "voice", "", twilio_call(sid, "+1555123" + std::to_string(1000 + i % 9000)));
          if (r.status != 200)
            break;  // the server is gone
          std::lock_guard lock(mu);
          acknowledged.push_back(sid);
          ++this_round;
          acked.notify_all();
        }
        std::lock_guard lock(mu);
        ++senders_done;
        acked.notify_all();
      });
    {
      std::unique_lock lock(mu);
      acked.wait(lock, [&] { return this_round >= kill_after || senders_done == 2; });
    }
    p.kill_hard();
    stop = true;
    for (auto& t : senders)
      t.join();
  }
  // Every acknowledged call is in the log exactly once, and the log's
  // chain and snapshots check out.
  auto counts = arrivals(data);
  for (auto& sid : acknowledged)
    CHECK(counts[sid] == 1);
  for (auto& [sid, n] : counts)
    CHECK(n == 1);
  CHECK(run_callq("verify --data-dir " + data) == 0);
  std::string out;
  CHECK(run_callq("replay --verify --data-dir " + data, &out) == 0);
  INFO(out);
}
