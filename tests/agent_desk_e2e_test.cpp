// End-to-end: the agent page's API (README, "Agent page") through the real
// `callq serve`: the agent's own view with the offered call and the
// caller's history, breaks with reasons, the wrap-up with a disposition
// and notes, the voice token, the live stream, and an agent token that
// reaches only its own agent.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "http/voice_token.hpp"
#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::map<std::string, std::string> voice_env = {
    {"TWILIO_API_KEY_SID", "SKe2e"},
    {"TWILIO_API_KEY_SECRET", "e2e-key-secret"},
    {"TWILIO_TWIML_APP_SID", "APe2e"},
    {"AGENT_VOICE_TOKEN_TTL", "10m"}};

json me(callq_process& p, const std::string& token) {
  auto r = p.json_request("GET", "/api/agent/me", token);
  INFO(r.body);
  REQUIRE(r.status == 200);
  return json::parse(r.body);
}

}  // namespace

TEST_CASE("e2e: an agent's own view, its offered call with history, break reasons and wrap-up") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), voice_env);
  REQUIRE(p.ready());
  REQUIRE(p.json_request("PUT", "/api/queues/support", admin_token,
                         {{"dispositions", {"resolved", "follow-up"}},
                          {"screenPopUrl", "https://crm.example.com/?phone={from}&who={name}"}})
              .status == 201);
  REQUIRE(p.json_request("PUT", "/api/callers/+15551230001", admin_token, {{"name", "Ada Lovelace"}, {"priority", 0}})
              .status == 200);
  std::string alice = create_agent(p, "alice");
  std::string bob = create_agent(p, "bob");

  // Only an agent token, only its own agent.
  CHECK(p.json_request("GET", "/api/agent/me", "").status == 401);
  CHECK(p.json_request("GET", "/api/agent/me", admin_token).status == 401);
  CHECK(p.json_request("GET", "/api/queue/status", alice).status == 401);  // the admin API stays closed
  CHECK(p.json_request("PUT", "/api/agents/bob", alice, {{"queues", {"support"}}}).status == 401);
  json m = me(p, alice);
  CHECK(m["agentId"] == "alice");
  CHECK(m["pauseReasons"] == json({"break", "lunch", "training", "meeting", "other"}));
  CHECK(m["offer"].is_null());
  CHECK(m["wrapUp"].is_null());
  size_t before = p.event_count();
  auto r = p.json_request("POST", "/api/agent-heartbeat", alice,
                          {{"agentId", "bob"}, {"status", "available"}, {"deviceRegistered", true}});
  CHECK(r.status == 403);
  CHECK(p.event_count() == before);

  // A break with a reason from AGENT_PAUSE_REASONS; another is refused.
  r = p.json_request("POST", "/api/agent-heartbeat", alice,
                     {{"agentId", "alice"}, {"status", "break"}, {"reason", "nap"}, {"deviceRegistered", true}});
  CHECK(r.status == 400);
  CHECK(has(r.body, "AGENT_PAUSE_REASONS"));
  CHECK(p.event_count() == before);
  r = p.json_request("POST", "/api/agent-heartbeat", alice,
                     {{"agentId", "alice"}, {"status", "break"}, {"reason", "lunch"}, {"deviceRegistered", true}});
  CHECK(r.status == 200);
  m = me(p, alice);
  CHECK(m["state"] == "break");
  CHECK(m["pauseReason"] == "lunch");
  json board = p.admin_get("/api/queue/status");
  for (auto& a : board["agents"])
    if (a["agentId"] == "alice")
      CHECK(a["pauseReason"] == "lunch");  // the wallboard shows it
  p.advance(90'000);
  heartbeat(p, "alice", alice);

  // The first call: the offer on alice's screen.
  REQUIRE(p.webhook("voice", "", twilio_call("CA1", "+15551230001")).status == 200);
  std::string offer = offer_in(tw.wait_request(0));
  m = me(p, alice);
  REQUIRE(m["offer"].is_object());
  CHECK(m["offer"]["callSid"] == "CA1");
  CHECK(m["offer"]["from"] == "+15551230001");
  CHECK(m["offer"]["name"] == "Ada Lovelace");
  CHECK(m["offer"]["queue"] == "support");
  CHECK(m["offer"]["attempt"] == 1);
  CHECK(m["offer"]["history"].empty());
  CHECK(m["offer"]["screenPopUrl"] == "https://crm.example.com/?phone=%2B15551230001&who=Ada%20Lovelace");
  CHECK(me(p, bob)["offer"].is_null());  // bob sees only his own
  REQUIRE(p.webhook("connect-agent", "?offer=" + offer, twilio_call("CA1")).status == 200);
  REQUIRE(p.webhook("agent-leg-status", "?offer=" + offer,
                    twilio_call("CAleg1", "client:alice", {{"CallStatus", "in-progress"}}))
              .status == 200);
  CHECK(me(p, alice)["call"]["callSid"] == "CA1");
  REQUIRE(p.webhook("dial-result", "?offer=" + offer,
                    twilio_call("CA1", "+15551230001", {{"DialCallStatus", "completed"}, {"DialCallDuration", "30"}}))
              .status == 200);

  // Wrap-up: a disposition of the queue's, notes kept as text.
  m = me(p, alice);
  REQUIRE(m["wrapUp"].is_object());
  CHECK(m["wrapUp"]["callSid"] == "CA1");
  CHECK(m["wrapUp"]["dispositions"] == json({"resolved", "follow-up"}));
  CHECK(m["wrapUp"]["secondsLeft"] == 15);
  before = p.event_count();
  CHECK(p.json_request("POST", "/api/agent/wrap-up", alice, {{"callSid", "CA1"}, {"disposition", "solved"}}).status == 400);
  CHECK(p.json_request("POST", "/api/agent/wrap-up", alice,
                       {{"callSid", "CA1"}, {"disposition", "resolved"}, {"notes", std::string(2001, 'x')}})
            .status == 400);
  CHECK(p.json_request("POST", "/api/agent/wrap-up", bob, {{"callSid", "CA1"}, {"disposition", "resolved"}}).status == 403);
  CHECK(p.json_request("POST", "/api/agent/wrap-up", alice, {{"callSid", "CA1"}, {"disposition", 3}}).status == 400);
  CHECK(p.event_count() == before);
  const std::string note = "<script>alert('x')</script> wants a refund";
  r = p.json_request("POST", "/api/agent/wrap-up", alice,
                     {{"callSid", "CA1"}, {"disposition", "resolved"}, {"notes", note}, {"ready", true}});
  INFO(r.body);
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["state"] == "available");  // "ready" ended wrap-up early
  CHECK(p.json_request("POST", "/api/agent/wrap-up", alice, {{"callSid", "CA1"}, {"disposition", "follow-up"}}).status == 409);

  // The next call from the same caller shows the last one, newest first.
  REQUIRE(p.webhook("voice", "", twilio_call("CA2", "+15551230001")).status == 200);
  tw.wait_request(1);
  m = me(p, alice);
  REQUIRE(m["offer"].is_object());
  REQUIRE(m["offer"]["history"].size() == 1);
  auto h = m["offer"]["history"][0];
  CHECK(h["callSid"] == "CA1");
  CHECK(h["agentId"] == "alice");
  CHECK(h["outcome"] == "completed");
  CHECK(h["disposition"] == "resolved");
  CHECK(h["queue"] == "support");

  // Reports: dispositions per queue and interval, paused time by reason.
  json rep = p.admin_get("/api/reports/queues?interval=1d");
  json dispositions = json::object();
  for (auto& q : rep["queues"])
    for (auto& i : q["intervals"])
      for (auto& [d, n] : i["dispositions"].items())
        dispositions[d] = n;
  CHECK(dispositions == json({{"resolved", 1}}));
  for (auto& a : rep["agents"])
    if (a["agentId"] == "alice")
      CHECK(a["pausedSecondsByReason"]["lunch"] == 90);
  // The export carries the disposition and the notes, as written.
  r = p.json_request("GET", "/api/audit/export?format=jsonl", admin_token);
  CHECK(has(r.body, "\"type\":\"agent.wrap_up_recorded\""));
  CHECK(has(r.body, "\"disposition\":\"resolved\""));
  CHECK(has(r.body, json(note).dump().substr(1, 20)));
  r = p.json_request("GET", "/api/audit/export?format=csv", admin_token);
  CHECK(has(r.body, "agent.wrap_up_recorded"));
  CHECK(has(r.body, "wants a refund"));

  // The history survives a restart (it is in the log and the snapshots).
  CHECK(p.terminate() == 0);
  callq_process again(dir.path() + "/data", tw.base_url(), voice_env);
  REQUIRE(again.ready());
  heartbeat(again, "alice", alice);
  REQUIRE(again.webhook("voice", "", twilio_call("CA3", "+15551230001")).status == 200);
  m = me(again, alice);
  REQUIRE(m["offer"].is_object());  // CA2 still waits, first in line
  REQUIRE(m["offer"]["history"].size() == 1);
  CHECK(m["offer"]["history"][0]["disposition"] == "resolved");
  CHECK(again.terminate() == 0);
}

TEST_CASE("e2e: the voice token is Twilio's format, signed with the API key, and 503 when unset") {
  fake_twilio tw;
  temp_dir dir;
  {
    callq_process p(dir.path() + "/data", tw.base_url(), voice_env);
    REQUIRE(p.ready());
    std::string alice = create_agent(p, "alice");
    CHECK(p.json_request("POST", "/api/agent/voice-token", "").status == 401);
    CHECK(p.json_request("POST", "/api/agent/voice-token", admin_token).status == 401);
    auto r = p.json_request("POST", "/api/agent/voice-token", alice);
    REQUIRE(r.status == 200);
    json t = json::parse(r.body);
    CHECK(t["identity"] == "client-alice");
    CHECK(t["ttlSeconds"] == 600);
    std::string header, payload;
    REQUIRE(callq::http::verify_hs256(t["token"], "e2e-key-secret", &header, &payload));
    json claims = json::parse(payload);
    CHECK(claims["iss"] == "SKe2e");
    CHECK(claims["sub"] == "ACtest");
    CHECK(claims["exp"].get<int64_t>() - claims["nbf"].get<int64_t>() == 600);
    CHECK(claims["grants"]["voice"]["outgoing"]["application_sid"] == "APe2e");
    CHECK(json::parse(header)["cty"] == "twilio-fpa;v=1");
    // The page and the SDK come from callq; only Twilio's signalling and
    // ringtones are allowed beyond it, and scripts never are.
    httplib::Client c("127.0.0.1", p.port());
    auto page = c.Get("/agent");
    REQUIRE(page);
    CHECK(page->status == 200);
    std::string csp = page->get_header_value("Content-Security-Policy");
    CHECK(has(csp, "default-src 'self'"));
    CHECK(has(csp, "connect-src 'self' wss://*.twilio.com"));
    CHECK_FALSE(has(csp, "script-src"));
    auto sdk = c.Get("/assets/twilio-voice.js");
    REQUIRE(sdk);
    CHECK(sdk->status == 200);
    CHECK(has(sdk->get_header_value("Content-Type"), "javascript"));
    CHECK(p.terminate() == 0);
  }
  callq_process off(dir.path() + "/data2", tw.base_url());
  REQUIRE(off.ready());
  std::string alice = create_agent(off, "alice");
  auto r = off.json_request("POST", "/api/agent/voice-token", alice);
  CHECK(r.status == 503);
  CHECK(has(r.body, "TWILIO_API_KEY_SID"));
}

TEST_CASE("e2e: the agent's live stream: a snapshot, an update within a second, signed out when removed") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  std::string alice = create_agent(p, "alice");
  std::mutex mu;
  std::condition_variable more;
  std::string seen;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    httplib::Client c("127.0.0.1", p.port());
    c.set_read_timeout(20, 0);
    c.Get(("/api/agent/stream?token=" + alice).c_str(), [&](const char* data, size_t n) {
      {
        std::lock_guard lock(mu);
        seen.append(data, n);
      }
      more.notify_all();
      return !done.load();
    });
  });
  // Waits, with a deadline, until the stream has sent `part`.
  auto wait_for = [&](const std::string& part, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu);
    return more.wait_for(lock, limit, [&] { return has(seen, part); });
  };
  CHECK(wait_for("event: snapshot", 5s));
  auto t0 = std::chrono::steady_clock::now();
  heartbeat(p, "alice", alice);
  CHECK(wait_for("event: update", 1s));
  CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
  {
    std::lock_guard lock(mu);
    CHECK(has(seen, "\"state\":\"available\""));
  }
  // Another agent's token gets nothing of alice's.
  std::string bob = create_agent(p, "bob");
  CHECK(p.json_request("GET", "/api/agent/stream?token=not-a-token", "").status == 401);
  // Removed: the stream says so and ends; the token is refused from now on.
  REQUIRE(p.json_request("DELETE", "/api/agents/alice", admin_token).status == 200);
  CHECK(wait_for("event: signed-out", 2s));
  done = true;
  reader.join();
  CHECK(p.json_request("GET", "/api/agent/me", alice).status == 401);
  CHECK(p.json_request("GET", "/api/agent/me", bob).status == 200);
}
