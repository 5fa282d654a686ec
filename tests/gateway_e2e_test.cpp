// End to end: the Twilio gateway's retry policy against a fake Twilio that
// fails on purpose. A redirect (idempotent: the same call sent to the same
// URL) is retried after a 5xx or a 429 until it lands. A callback's
// outbound call is retried only when Twilio says it placed nothing (429);
// after a 5xx it may have been placed, so it is never placed again for the
// same attempt: the attempt is recorded as failed and the callback's retry
// rule takes over (README, "Twilio REST calls").
#include <algorithm>
#include <chrono>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

size_t count_path(const std::vector<rest_request>& reqs, const std::string& path) {
  size_t n = 0;
  for (auto& r : reqs)
    n += r.path == path;
  return n;
}

/// The timeline's event types of one call.
std::vector<std::string> types_of(callq_process& p, const std::string& sid) {
  std::vector<std::string> types;
  json timeline = p.admin_get("/api/calls/" + sid + "/timeline");
  for (auto& e : timeline["events"])
    types.push_back(e["type"]);
  return types;
}

/// The timeline's events of one call that have type `type`.
std::vector<json> events_of(callq_process& p, const std::string& sid, const std::string& type) {
  std::vector<json> out;
  json timeline = p.admin_get("/api/calls/" + sid + "/timeline");
  for (auto& e : timeline["events"])
    if (e["type"] == type)
      out.push_back(e);
  return out;
}

/// Caller CA3 waits past MAX_QUEUE_WAIT_TIME (60 s) while agent alice is
/// busy, and presses 1 for a callback.
void waits_for_callback(callq_process& p, const std::string& alice) {
  heartbeat(p, "alice", alice, "busy");
  REQUIRE(p.webhook("voice", "", twilio_call("CA3", "+15551230003")).status == 200);
  p.advance(61'000);
  REQUIRE(has(p.webhook("queue-hold-music", "", twilio_call("CA3", "+15551230003")).body, "<Gather"));
  REQUIRE(has(p.webhook("callback-response", "", twilio_call("CA3", "+15551230003", {{"Digits", "1"}})).body,
              "<Leave/>"));
}

/// CA3's callback recorded `failed` failed attempts, and the fake Twilio saw
/// exactly one outbound-call request per attempt started.
void one_request_per_attempt(callq_process& p, const fake_twilio& tw, int failed) {
  auto types = types_of(p, "CA3");
  INFO("CA3's events: " << json(types).dump());
  CHECK(std::count(types.begin(), types.end(), "callback.failed") == failed);
  CHECK(static_cast<size_t>(std::count(types.begin(), types.end(), "callback.started")) ==
        count_path(tw.requests(), "/2010-04-01/Accounts/ACtest/Calls.json"));
}

}  // namespace

TEST_CASE("e2e: a redirect Twilio refuses (5xx, 429) is retried until it lands, once it lands never again") {
  int status = GENERATE(500, 503, 429);
  INFO("Twilio answers " << status << " twice");
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  auto token = create_agent(p, "alice");
  heartbeat(p, "alice", token);
  tw.fail_next(2, status);
  REQUIRE(p.webhook("voice", "", twilio_call("CA1")).status == 200);
  const std::string path = "/2010-04-01/Accounts/ACtest/Calls/CA1.json";
  // Two refused, the third lands (backoff 250 ms, then 500 ms).
  REQUIRE(tw.wait_for([&](auto& reqs) { return count_path(reqs, path) >= 3; }, 10s));
  auto reqs = tw.requests();
  CHECK(reqs[0].form["Url"] == reqs[2].form["Url"]);  // the same offer each time
  CHECK_FALSE(tw.wait_for([&](auto& r) { return count_path(r, path) > 3; }, 1500ms));
  auto metrics = p.json_request("GET", "/metrics", "").body;
  CHECK(has(metrics, "callq_twilio_rest_requests_total{outcome=\"retried\"} 2"));
  CHECK(has(metrics, "callq_twilio_rest_requests_total{outcome=\"ok\"} 1"));
  // The call goes on as if nothing had happened.
  std::string url = reqs[2].form["Url"];
  std::string offer = url.substr(url.find("offer=") + 6);
  auto r = p.webhook("connect-agent", "?offer=" + offer, twilio_call("CA1"));
  CHECK(has(r.body, "client-alice</Client>"));
}

TEST_CASE("e2e: a callback's outbound call is placed at most once per attempt: retried after a 429, not after a 5xx") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"MAX_QUEUE_WAIT_TIME", "60s"}});
  REQUIRE(p.ready());
  auto alice = create_agent(p, "alice");
  waits_for_callback(p, alice);
  const std::string create = "/2010-04-01/Accounts/ACtest/Calls.json";

  SECTION("a 500: Twilio may have placed the call, so it is not placed again for this attempt") {
    tw.fail_next(1, 500);
    heartbeat(p, "alice", alice, "available");
    REQUIRE(tw.wait_for([&](auto& reqs) { return count_path(reqs, create) >= 1; }, 10s));
    // Longer than the gateway's backoffs: whatever was going to be sent is.
    tw.wait_for([&](auto& reqs) { return count_path(reqs, create) > 2; }, 1500ms);
    // The refused attempt is recorded failed, and the callback's next
    // attempt (a new callback.started) is the only other request: one
    // outbound call per attempt, never two.
    one_request_per_attempt(p, tw, 1);
    auto metrics = p.json_request("GET", "/metrics", "").body;
    CHECK(has(metrics, "callq_twilio_rest_requests_total{outcome=\"failed\"} 1"));
    CHECK(has(metrics, "callq_twilio_rest_requests_total{outcome=\"retried\"} 0"));
  }
  SECTION("a 429: Twilio placed nothing, so the same attempt is sent again and lands") {
    tw.fail_next(1, 429);
    heartbeat(p, "alice", alice, "available");
    REQUIRE(tw.wait_for([&](auto& reqs) { return count_path(reqs, create) >= 2; }, 10s));
    auto reqs = tw.requests();
    std::vector<rest_request> creates;
    for (auto& r : reqs)
      if (r.path == create)
        creates.push_back(r);
    CHECK(creates[0].form["Url"] == creates[1].form["Url"]);  // the same attempt
    CHECK_FALSE(tw.wait_for([&](auto& r) { return count_path(r, create) > 2; }, 1500ms));
    auto types = types_of(p, "CA3");
    INFO("CA3's events: " << json(types).dump());
    CHECK(std::count(types.begin(), types.end(), "callback.started") == 1);
    CHECK(std::count(types.begin(), types.end(), "callback.failed") == 0);
    // The CallSid of Twilio's answer is recorded for the attempt.
    auto placed = events_of(p, "CA3", "callback.call_placed");
    REQUIRE(placed.size() == 1);
    CHECK(placed[0]["data"]["legSid"] == fake_twilio::created_sid(1));
    CHECK(placed[0]["data"]["attempt"] == 1);
  }
}

TEST_CASE("e2e: Twilio's answer lost (read timeout): a redirect is sent again, a callback's outbound call is not") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"MAX_QUEUE_WAIT_TIME", "60s"}});
  REQUIRE(p.ready());
  auto alice = create_agent(p, "alice");
  // Longer than the gateway's 5 s read timeout.
  const auto hold = 6500ms;

  SECTION("a redirect: the same offer again, and it lands") {
    heartbeat(p, "alice", alice);
    tw.stall_next(1, hold);
    REQUIRE(p.webhook("voice", "", twilio_call("CA1")).status == 200);
    const std::string path = "/2010-04-01/Accounts/ACtest/Calls/CA1.json";
    REQUIRE(tw.wait_for([&](auto& reqs) { return count_path(reqs, path) >= 2; }, 15s));
    auto reqs = tw.requests();
    CHECK(reqs[0].form["Url"] == reqs[1].form["Url"]);
    auto metrics = p.json_request("GET", "/metrics", "").body;
    CHECK(has(metrics, "callq_twilio_rest_requests_total{outcome=\"retried\"} 1"));
  }
  SECTION("a callback's call: Twilio may have placed it, so this attempt is not placed again") {
    waits_for_callback(p, alice);
    const std::string create = "/2010-04-01/Accounts/ACtest/Calls.json";
    tw.stall_next(1, hold);
    heartbeat(p, "alice", alice, "available");
    REQUIRE(tw.wait_for([&](auto& reqs) { return count_path(reqs, create) >= 1; }, 10s));
    // The read times out after 5 s: the attempt is recorded failed, and
    // the callback's next attempt (its own callback.started) is the only
    // other request.
    REQUIRE(tw.wait_for([&](auto& reqs) { return count_path(reqs, create) >= 2; }, 15s));
    tw.wait_for([&](auto& reqs) { return count_path(reqs, create) > 2; }, 1500ms);
    one_request_per_attempt(p, tw, 1);
  }
}

TEST_CASE("e2e: SIGKILL while Twilio holds a callback's outbound call: the attempt is not placed again, and the customer is dialled once though both legs answer") {
  fake_twilio tw;
  temp_dir dir;
  const std::string data = dir.path() + "/data";
  const std::string create = "/2010-04-01/Accounts/ACtest/Calls.json";
  const std::map<std::string, std::string> env{{"MAX_QUEUE_WAIT_TIME", "60s"}};
  std::string alice;
  size_t first = 0;
  {
    callq_process p(data, tw.base_url(), env);
    REQUIRE(p.ready());
    alice = create_agent(p, "alice");
    waits_for_callback(p, alice);
    first = tw.requests().size();
    // Twilio places the leg but its answer never reaches callq: the server
    // dies between the REST call and callback.call_placed.
    tw.stall_next(1, 60s);
    heartbeat(p, "alice", alice, "available");
    REQUIRE(tw.wait_for([&](auto& reqs) { return count_path(reqs, create) == 1; }, 10s));
    p.kill_hard();
  }
  const std::string old_leg = fake_twilio::created_sid(first);

  callq_process p(data, tw.base_url(), env);
  REQUIRE(p.ready());
  auto failed = events_of(p, "CA3", "callback.failed");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0]["data"]["reason"] == "recovered");
  CHECK(failed[0]["data"]["attempt"] == 1);
  CHECK(failed[0]["data"]["final"] == false);
  // Recovery placed nothing: the next request is the next attempt's.
  CHECK_FALSE(tw.wait_for([&](auto& reqs) { return count_path(reqs, create) > 1; }, 1500ms));
  heartbeat(p, "alice", alice, "available");
  REQUIRE(tw.wait_for([&](auto& reqs) { return count_path(reqs, create) == 2; }, 10s));
  auto reqs = tw.requests();
  size_t second = reqs.size() - 1;
  REQUIRE(reqs[second].path == create);
  const std::string new_leg = fake_twilio::created_sid(second);
  std::string cb = reqs[second].form["Url"].substr(reqs[second].form["Url"].find("callback=") + 9);

  // Alice answers the old leg, still ringing at Twilio, then the new one:
  // the first dials the customer, the second hears goodbye.
  auto old_answer = p.webhook("callback-connect", "?callback=" + cb, twilio_call(old_leg, "client:alice"));
  CHECK(old_answer.status == 200);
  CHECK(has(old_answer.body, "<Dial"));
  CHECK(has(old_answer.body, ">+15551230003</Dial>"));
  auto new_answer = p.webhook("callback-connect", "?callback=" + cb, twilio_call(new_leg, "client:alice"));
  CHECK(new_answer.status == 200);
  CHECK_FALSE(has(new_answer.body, "<Dial"));
  CHECK(has(new_answer.body, "<Hangup/>"));
  auto answered = events_of(p, "CA3", "callback.agent_answered");
  REQUIRE(answered.size() == 1);
  CHECK(answered[0]["data"]["legSid"] == old_leg);
  CHECK(p.webhook("callback-result", "?callback=" + cb,
                  twilio_call(old_leg, "client:alice", {{"DialCallStatus", "completed"}, {"DialCallDuration", "30"}}))
            .status == 200);
  CHECK(events_of(p, "CA3", "callback.completed").size() == 1);
  one_request_per_attempt(p, tw, 1);
}
