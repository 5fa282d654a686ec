// End-to-end: the real `callq serve` binary on a loopback port, a fake
// Twilio REST API, and whole scenarios walked through HTTP.
#include <arpa/inet.h>
#include <fstream>
#include <netinet/in.h>
#include <regex>
#include <set>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "events/codec.hpp"
#include "http/signature.hpp"
#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

/// Sends `request` as raw bytes and returns the whole answer.
std::string raw_http(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
      out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

json waiting(callq_process& p) {
  return p.admin_get("/api/queue/status")["queues"][0]["waiting"];
}

json agent_view(callq_process& p, const std::string& id) {
  json status = p.admin_get("/api/queue/status");
  for (auto& a : status["agents"])
    if (a["agentId"] == id)
      return a;
  return nullptr;
}

/// The identity a connect-agent answer dials.
std::string dialled(callq_process& p, const std::string& sid, const std::string& offer) {
  auto r = p.webhook("connect-agent", "?offer=" + offer, twilio_call(sid));
  REQUIRE(r.status == 200);
  auto from = r.body.find("\">", r.body.find("<Client"));
  auto to = r.body.find("</Client>");
  REQUIRE(from != std::string::npos);
  return r.body.substr(from + 2, to - from - 2);
}

}  // namespace

TEST_CASE("e2e: a call is enqueued, dialled to the ready agent, completed, wrap-up, the next call") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  CHECK(p.json_request("GET", "/healthz", "").status == 200);
  p.json_request("PUT", "/api/callers/+15551230001", admin_token, {{"name", "Ada"}, {"priority", 0}});
  auto token = create_agent(p, "alice");
  CHECK(heartbeat(p, "alice", token)["state"] == "available");

  auto r = p.webhook("voice", "", twilio_call("CA1"));
  REQUIRE(r.status == 200);
  CHECK(has(r.body, "Hello Ada"));
  CHECK(has(r.body, "<Enqueue action=\"https://callq.example.test/api/webhooks/twilio/queue-handler\""));
  CHECK(has(r.body, "waitUrl=\"https://callq.example.test/api/webhooks/twilio/queue-hold-music\""));

  auto redirect = tw.wait_request(0);
  CHECK(redirect.path == "/2010-04-01/Accounts/ACtest/Calls/CA1.json");
  CHECK(redirect.authorization == "Basic QUN0ZXN0OmUyZS10d2lsaW8tdG9rZW4=");  // ACtest:e2e-twilio-token
  CHECK(redirect.form["Method"] == "POST");
  CHECK(has(redirect.form["Url"], "https://callq.example.test/api/webhooks/twilio/connect-agent?offer="));
  std::string offer = offer_in(redirect);

  r = p.webhook("connect-agent", "?offer=" + offer, twilio_call("CA1"));
  CHECK(has(r.body, "<Dial action=\"https://callq.example.test/api/webhooks/twilio/dial-result?offer=" + offer + "\" timeout=\"20\">"));
  CHECK(has(r.body, "statusCallback=\"https://callq.example.test/api/webhooks/twilio/agent-leg-status?offer=" + offer + "\">client-alice</Client>"));
  CHECK(agent_view(p, "alice")["state"] == "ringing");

  r = p.webhook("agent-leg-status", "?offer=" + offer, twilio_call("CAleg1", "client:alice", {{"CallStatus", "in-progress"}}));
  CHECK(r.status == 200);
  CHECK(agent_view(p, "alice")["state"] == "on-call");

  p.webhook("voice", "", twilio_call("CA2", "+15551230002"));
  r = p.webhook("dial-result", "?offer=" + offer,
                twilio_call("CA1", "+15551230001", {{"DialCallStatus", "completed"}, {"DialCallDuration", "42"}}));
  CHECK(has(r.body, "<Hangup/>"));
  CHECK(agent_view(p, "alice")["state"] == "wrap-up");
  CHECK_FALSE(tw.wait_for([](auto& reqs) { return reqs.size() > 1; }, 300ms));

  heartbeat(p, "alice", token);
  p.advance(15'000);
  auto next = tw.wait_request(1);
  CHECK(next.path == "/2010-04-01/Accounts/ACtest/Calls/CA2.json");

  // The offline commands read the log while the server writes to it.
  std::string data = dir.path() + "/data";
  CHECK(std::system((std::string(CALLQ_BINARY) + " verify --data-dir " + data + " > /dev/null").c_str()) == 0);
  CHECK(std::system((std::string(CALLQ_BINARY) + " replay --call CA1 --data-dir " + data + " > /dev/null").c_str()) == 0);
  // callq simulate too (on this backend), over the days around now.
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  std::string sim_out = dir.path() + "/simulate.json";
  CHECK(std::system((std::string(CALLQ_BINARY) + " simulate --data-dir " + data + " --from " +
                     callq::events::format_iso8601(now_ms - 86'400'000) + " --to " +
                     callq::events::format_iso8601(now_ms + 86'400'000) + " --interval 1d --format json > " +
                     sim_out).c_str()) == 0);
  std::ifstream sim_file(sim_out);
  json sim = json::parse(sim_file, nullptr, false);
  REQUIRE(sim.is_object());
  CHECK(sim["queues"][0]["total"]["actual"]["offered"] == 2);
  CHECK(sim["queues"][0]["total"]["simulated"]["offered"] == 2);

  auto timeline = p.admin_get("/api/calls/CA1/timeline")["events"];
  std::vector<std::string> types;
  for (auto& e : timeline)
    types.push_back(e["type"]);
  CHECK(types == std::vector<std::string>{"call.arrived", "call.enqueued", "call.offered",
                                          "call.connected", "call.completed"});
  CHECK(p.terminate() == 0);
}

TEST_CASE("e2e: no-answer tries the next agent, 2 failures escalate, 3 offer a callback") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  for (auto id : {"a1", "a2", "a3"})
    heartbeat(p, id, create_agent(p, id));

  p.webhook("voice", "", twilio_call("CA1", "+15551230001"));
  std::set<std::string> agents;
  const char* outcomes[] = {"no-answer", "busy", "no-answer"};
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto req = tw.wait_request(static_cast<size_t>(attempt));
    REQUIRE(req.path == "/2010-04-01/Accounts/ACtest/Calls/CA1.json");
    std::string offer = offer_in(req);
    agents.insert(dialled(p, "CA1", offer));
    auto r = p.webhook("dial-result", "?offer=" + offer, twilio_call("CA1", "+15551230001", {{"DialCallStatus", outcomes[attempt]}}));
    CHECK(has(r.body, "<Enqueue"));
    if (attempt == 1)
      CHECK(waiting(p)[0]["escalated"] == true);
  }
  CHECK(agents.size() == 3);  // every offer went to another agent
  CHECK_FALSE(tw.wait_for([](auto& reqs) { return reqs.size() > 3; }, 300ms));

  auto hold = p.webhook("queue-hold-music", "", twilio_call("CA1", "+15551230001", {{"QueuePosition", "1"}}));
  CHECK(has(hold.body, "<Gather numDigits=\"1\" action=\"https://callq.example.test/api/webhooks/twilio/callback-response\""));
  auto r = p.webhook("callback-response", "", twilio_call("CA1", "+15551230001", {{"Digits", "1"}}));
  CHECK(has(r.body, "<Leave/>"));
  r = p.webhook("queue-handler", "", twilio_call("CA1", "+15551230001", {{"QueueResult", "leave"}}));
  CHECK(has(r.body, "<Hangup/>"));

  auto create = tw.wait_request(3);
  CHECK(create.path == "/2010-04-01/Accounts/ACtest/Calls.json");
  CHECK(create.form["To"].rfind("client:client-a", 0) == 0);
  CHECK(create.form["From"] == "+15550000000");
  auto url = create.form["Url"];
  auto at = url.find("callback=");
  REQUIRE(at != std::string::npos);
  std::string cb = url.substr(at + 9);
  r = p.webhook("callback-connect", "?callback=" + cb, twilio_call("CAcb1", "client:x"));
  CHECK(has(r.body, "<Dial callerId=\"+15550000000\" action=\"https://callq.example.test/api/webhooks/twilio/callback-result?callback=" + cb + "\">+15551230001</Dial>"));
  r = p.webhook("callback-result", "?callback=" + cb, twilio_call("CAcb1", "client:x", {{"DialCallStatus", "completed"}, {"DialCallDuration", "60"}}));
  CHECK(has(r.body, "<Hangup/>"));
  auto metrics = p.json_request("GET", "/metrics", "");
  CHECK(has(metrics.body, "callq_callbacks_total{outcome=\"completed\"} 1"));
  CHECK(has(metrics.body, "callq_calls_escalated_total 1"));
  // Every durable batch is published as a version of the read model, and
  // the journal's time for each is counted.
  const std::string applies = "callq_read_model_apply_seconds_count ";
  auto at_count = metrics.body.find(applies);
  REQUIRE(at_count != std::string::npos);
  CHECK(std::stoll(metrics.body.substr(at_count + applies.size())) >= 5);
  const std::string versions = "\ncallq_read_model_versions_total ";
  auto at_versions = metrics.body.find(versions);
  REQUIRE(at_versions != std::string::npos);
  CHECK(std::stoll(metrics.body.substr(at_versions + versions.size())) >= 5);
  CHECK(has(metrics.body, "callq_read_model_apply_max_seconds "));
}

TEST_CASE("e2e: a callback keeps the caller's place in the queue") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"MAX_QUEUE_WAIT_TIME", "60s"}});
  REQUIRE(p.ready());
  p.webhook("voice", "", twilio_call("CA1", "+15551230001"));
  p.webhook("voice", "", twilio_call("CA2", "+15551230002"));
  p.advance(61'000);
  auto hold = p.webhook("queue-hold-music", "", twilio_call("CA1"));
  CHECK(has(hold.body, "<Gather"));
  CHECK(has(p.webhook("callback-response", "", twilio_call("CA1", "+15551230001", {{"Digits", "1"}})).body, "<Leave/>"));
  auto w = waiting(p);
  REQUIRE(w.size() == 2);
  CHECK(w[0]["callSid"] == "CA1");
  CHECK(w[0]["callbackRequested"] == true);
  heartbeat(p, "bob", create_agent(p, "bob"));
  auto first = tw.wait_request(0);
  CHECK(first.path == "/2010-04-01/Accounts/ACtest/Calls.json");  // the callback goes first
  CHECK(first.form["To"] == "client:client-bob");
}

TEST_CASE("e2e: agents with stale heartbeats or an auto-pause are skipped") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"AGENT_MAX_NO_ANSWER", "1"}});
  REQUIRE(p.ready());
  auto alice = create_agent(p, "alice");
  heartbeat(p, "alice", alice);
  p.advance(61'000);
  CHECK(agent_view(p, "alice")["state"] == "stale");
  p.webhook("voice", "", twilio_call("CA1"));
  CHECK_FALSE(tw.wait_for([](auto& reqs) { return !reqs.empty(); }, 300ms));
  heartbeat(p, "alice", alice);
  auto req = tw.wait_request(0);
  CHECK(req.path == "/2010-04-01/Accounts/ACtest/Calls/CA1.json");
  CHECK(dialled(p, "CA1", offer_in(req)) == "client-alice");

  // alice misses the call: with AGENT_MAX_NO_ANSWER=1 she is auto-paused.
  p.webhook("dial-result", "?offer=" + offer_in(req), twilio_call("CA1", "+15551230001", {{"DialCallStatus", "no-answer"}}));
  auto a = agent_view(p, "alice");
  CHECK(a["state"] == "break");
  CHECK(a["pauseReason"] == "auto-pause");
  heartbeat(p, "alice", alice);  // her softphone still says available
  CHECK_FALSE(tw.wait_for([](auto& reqs) { return reqs.size() > 1; }, 300ms));
  heartbeat(p, "carol", create_agent(p, "carol"));
  auto next = tw.wait_request(1);
  CHECK(dialled(p, "CA1", offer_in(next)) == "client-carol");
}

TEST_CASE("e2e: bad signatures, bad input and retries change nothing") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  size_t before = p.event_count();
  auto r = p.webhook("voice", "", twilio_call("CA1"), "", false);
  CHECK(r.status == 403);
  r = p.webhook("voice", "", twilio_call("CA1"), "", true, "L/OH5YylLD5NRKLltdqwSvS0BnU=");
  CHECK(r.status == 403);
  CHECK(p.event_count() == before);
  r = p.webhook("voice", "", twilio_call("CA9"));
  CHECK(r.status == 200);
  size_t after_ok = p.event_count();
  CHECK(after_ok > before);

  r = p.webhook("voice", "", {{"From", "+1555"}, {"To", "+1666"}});
  CHECK(r.status == 400);
  CHECK(has(r.body, "CallSid"));
  r = p.webhook("dial-result", "?offer=OF404", twilio_call("CA1", "+1", {{"DialCallStatus", "completed"}}));
  CHECK(r.status == 400);
  CHECK(has(r.body, "unknown offer"));
  r = p.webhook("voice", "?priority=high", twilio_call("CA11"));
  CHECK(r.status == 400);
  CHECK(p.event_count() == after_ok);

  // The same webhook twice, as Twilio retries it: one set of events.
  r = p.webhook("queue-hold-music", "", twilio_call("CA9"), "idem-1");
  size_t once = p.event_count();
  auto again = p.webhook("queue-hold-music", "", twilio_call("CA9"), "idem-1");
  CHECK(p.event_count() == once);
  CHECK(again.body == r.body);
  auto voice_again = p.webhook("voice", "", twilio_call("CA9"));
  CHECK(voice_again.status == 200);
  CHECK(p.event_count() == once);

  // Agent heartbeats: 401, 404, 400 change nothing.
  auto token = create_agent(p, "alice");
  size_t agents = p.event_count();
  CHECK(p.json_request("POST", "/api/agent-heartbeat", "", {{"agentId", "alice"}, {"status", "available"}}).status == 401);
  CHECK(p.json_request("POST", "/api/agent-heartbeat", "wrong", {{"agentId", "alice"}, {"status", "available"}}).status == 401);
  CHECK(p.json_request("POST", "/api/agent-heartbeat", token, {{"agentId", "ghost"}, {"status", "available"}}).status == 404);
  auto bad = p.json_request("POST", "/api/agent-heartbeat", token, {{"agentId", "alice"}, {"status", "napping"}});
  CHECK(bad.status == 400);
  CHECK(has(bad.body, "\"error\""));
  CHECK(p.json_request("GET", "/api/queue/status", "nope").status == 401);
  CHECK(p.event_count() == agents);

  // A POST with no body and no Content-Length (curl -X POST) is fine.
  auto cron = raw_http(p.port(), std::string("POST /api/cron/queue-processor HTTP/1.1\r\nHost: x\r\n") +
                                     "Authorization: Bearer " + admin_token + "\r\nConnection: close\r\n\r\n");
  CHECK(cron.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(has(cron, "\"offered\""));
}

TEST_CASE("e2e: a webhook's body is read once as a form - other types are refused and its fields are never query parameters") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  size_t before = p.event_count();
  auto send = [&](const std::string& type, const std::string& body) {
    return raw_http(p.port(), "POST /api/webhooks/twilio/voice HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
                                  "\r\nContent-Length: " + std::to_string(body.size()) +
                                  "\r\nConnection: close\r\n\r\n" + body);
  };
  auto json = send("application/json", R"({"CallSid":"CA1"})");
  CHECK(json.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(has(json, "body must be application/x-www-form-urlencoded"));
  auto parts = send("multipart/form-data; boundary=xyz",
                    "--xyz\r\nContent-Disposition: form-data; name=\"CallSid\"\r\n\r\nCA1\r\n--xyz--\r\n");
  CHECK(parts.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(has(parts, "body must be application/x-www-form-urlencoded"));
  auto bad_form = send("application/x-www-form-urlencoded", "CallSid=CA%zz");
  CHECK(bad_form.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(p.event_count() == before);
  // A body field named as a query parameter stays a field: the call joins
  // the default queue, not the one its body names.
  auto r = p.webhook("voice", "", twilio_call("CA2", "+15551230002", {{"queue", "sales"}, {"priority", "high"}}));
  CHECK(r.status == 200);
  auto queue_of = [&](const std::string& sid) {
    auto t = p.admin_get("/api/calls/" + sid + "/timeline");
    std::string q;
    for (auto& e : t.is_array() ? t : t["events"])
      if (e["type"] == "call.arrived")
        q = e["data"]["queue"].get<std::string>();
    return q;
  };
  CHECK(queue_of("CA2") == "support");
  // The query's own parameters still count.
  CHECK(p.webhook("voice", "?queue=sales", twilio_call("CA3")).status == 200);
  CHECK(queue_of("CA3") == "sales");
}

TEST_CASE("e2e: SIGKILL with calls waiting, restart, same queue in the same order") {
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  json before;
  {
    callq_process p(data, tw.base_url());
    REQUIRE(p.ready());
    p.webhook("voice", "", twilio_call("CA1"));
    p.webhook("voice", "?priority=5", twilio_call("CA2"));
    p.webhook("voice", "", twilio_call("CA3"));
    p.advance(5'000);
    before = waiting(p);
    p.kill_hard();
  }
  callq_process p(data, tw.base_url());
  REQUIRE(p.ready());
  auto after = waiting(p);
  REQUIRE(after.size() == 3);
  std::vector<std::string> order;
  for (auto& w : after)
    order.push_back(w["callSid"]);
  CHECK(order == std::vector<std::string>{"CA2", "CA1", "CA3"});
  for (size_t i = 0; i < 3; ++i) {
    CHECK(after[i]["callSid"] == before[i]["callSid"]);
    CHECK(after[i]["position"] == before[i]["position"]);
    CHECK(after[i]["waitSeconds"].get<int64_t>() >= 0);
  }
  CHECK(p.terminate() == 0);
  // The log is intact and its recorded state digests replay exactly.
  auto verify = std::string(CALLQ_BINARY) + " verify --data-dir " + data + " > /dev/null";
  CHECK(std::system(verify.c_str()) == 0);
  auto replay = std::string(CALLQ_BINARY) + " replay --verify --data-dir " + data + " > /dev/null";
  CHECK(std::system(replay.c_str()) == 0);
}

TEST_CASE("e2e: legacy routing dials the best ready agent from the voice webhook") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"FEATURE_ENHANCED_QUEUE", "false"}});
  REQUIRE(p.ready());
  heartbeat(p, "alice", create_agent(p, "alice"));
  auto r = p.webhook("voice", "", twilio_call("CA1"));
  CHECK(has(r.body, "<Dial action=\"https://callq.example.test/api/webhooks/twilio/dial-result?offer="));
  CHECK(has(r.body, ">client-alice</Client>"));
  CHECK_FALSE(tw.wait_for([](auto& reqs) { return !reqs.empty(); }, 300ms));
}

TEST_CASE("e2e: announcements, hang-ups while waiting or ringing, a callback retried") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"MAX_QUEUE_WAIT_TIME", "60s"}});
  REQUIRE(p.ready());
  p.webhook("voice", "", twilio_call("CA1", "+15551230001"));
  p.webhook("voice", "", twilio_call("CA2", "+15551230002"));

  // Position and wait at the first hold request, then every 30 s.
  auto hold = p.webhook("queue-hold-music", "", twilio_call("CA2", "+15551230002", {{"QueuePosition", "7"}}));
  CHECK(has(hold.body, "You are number 2 in the queue"));
  CHECK(has(hold.body, "<Play>"));
  hold = p.webhook("queue-hold-music", "", twilio_call("CA2", "+15551230002"));
  CHECK_FALSE(has(hold.body, "You are number"));
  p.advance(30'000);
  hold = p.webhook("queue-hold-music", "", twilio_call("CA2", "+15551230002"));
  CHECK(has(hold.body, "You are number 2 in the queue"));

  // CA1 hangs up while waiting: CA2 moves up.
  auto r = p.webhook("queue-handler", "", twilio_call("CA1", "+15551230001", {{"QueueResult", "hangup"}, {"QueueTime", "30"}}));
  CHECK(r.status == 200);
  auto w = waiting(p);
  REQUIRE(w.size() == 1);
  CHECK(w[0]["callSid"] == "CA2");
  CHECK(w[0]["position"] == 1);

  // CA2 rings alice and hangs up while ringing: alice is free again.
  auto alice = create_agent(p, "alice");
  heartbeat(p, "alice", alice);
  tw.wait_request(0);
  CHECK(agent_view(p, "alice")["state"] == "ringing");
  r = p.webhook("call-status", "", twilio_call("CA2", "+15551230002", {{"CallStatus", "completed"}}));
  CHECK(r.body.find("<Response/>") != std::string::npos);
  CHECK(agent_view(p, "alice")["state"] == "available");
  CHECK(waiting(p).empty());
  auto metrics = p.json_request("GET", "/metrics", "").body;
  CHECK(has(metrics, "callq_calls_abandoned_total 2"));

  // A callback whose customer does not answer is tried again.
  heartbeat(p, "alice", alice, "busy");
  p.webhook("voice", "", twilio_call("CA3", "+15551230003"));
  p.advance(61'000);
  CHECK(has(p.webhook("queue-hold-music", "", twilio_call("CA3", "+15551230003")).body, "<Gather"));
  CHECK(has(p.webhook("callback-response", "", twilio_call("CA3", "+15551230003", {{"Digits", "1"}})).body, "<Leave/>"));
  heartbeat(p, "alice", alice, "available");
  auto create = tw.wait_request(1);
  size_t idx = 1;
  REQUIRE(create.path == "/2010-04-01/Accounts/ACtest/Calls.json");
  std::string cb = create.form["Url"].substr(create.form["Url"].find("callback=") + 9);
  p.webhook("callback-connect", "?callback=" + cb, twilio_call("CAcb", "client:client-alice"));
  r = p.webhook("callback-result", "?callback=" + cb, twilio_call("CAcb", "client:client-alice", {{"DialCallStatus", "no-answer"}}));
  CHECK(has(r.body, "<Hangup/>"));
  auto retry = tw.wait_request(idx + 1);
  CHECK(retry.path == "/2010-04-01/Accounts/ACtest/Calls.json");
  CHECK(retry.form["To"] == "client:client-alice");
}

TEST_CASE("e2e: behind a non-default port, a signature over the URL with or without the port is accepted") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"PUBLIC_BASE_URL", "https://cq.example.com:8443"}});
  REQUIRE(p.ready());
  auto form = twilio_call("CA1");
  callq::http::form_fields fields(form.begin(), form.end());
  const std::string path = "/api/webhooks/twilio/voice?queue=support";
  auto signed_over = [&](const std::string& url) {
    return callq::http::twilio_signature(twilio_token, url, fields);
  };
  size_t before = p.event_count();
  auto r = p.webhook("voice", "?queue=support", form, "", true, signed_over("https://cq.example.com:443" + path));
  CHECK(r.status == 403);
  r = p.webhook("voice", "?queue=support", form, "", true, signed_over("https://cq.example.com/api/webhooks/twilio/voice?queue=sales"));
  CHECK(r.status == 403);
  CHECK(p.event_count() == before);
  r = p.webhook("voice", "?queue=support", form, "", true, signed_over("https://cq.example.com" + path));
  CHECK(r.status == 200);
  CHECK(has(r.body, "<Enqueue"));
  r = p.webhook("queue-hold-music", "", form, "", true,
                signed_over("https://cq.example.com:8443/api/webhooks/twilio/queue-hold-music"));
  CHECK(r.status == 200);
  CHECK(has(r.body, "You are number 1"));
}

TEST_CASE("e2e: an anonymous caller waits past MAX_QUEUE_WAIT_TIME and is never offered a callback") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  auto form = twilio_call("CA1", "anonymous");
  REQUIRE(p.webhook("voice", "", form).status == 200);
  auto hold = p.webhook("queue-hold-music", "", form);
  CHECK(has(hold.body, "You are number 1"));
  p.advance(601'000);
  hold = p.webhook("queue-hold-music", "", form);
  CHECK(has(hold.body, "You are number 1"));  // announcements go on
  CHECK_FALSE(has(hold.body, "<Gather"));
  auto r = p.webhook("callback-response", "", twilio_call("CA1", "anonymous", {{"Digits", "1"}}));
  CHECK(r.status == 200);
  CHECK(has(r.body, "cannot call you back"));
  CHECK_FALSE(has(r.body, "<Leave/>"));
  CHECK(waiting(p)[0]["callSid"] == "CA1");
  auto timeline = p.admin_get("/api/calls/CA1/timeline")["events"];
  CHECK(timeline.size() == 4);  // arrived, enqueued, announced twice
  for (auto& e : timeline)
    CHECK(e["type"].get<std::string>().rfind("callback.", 0) == std::string::npos);
  CHECK(tw.requests().empty());
}

TEST_CASE("e2e: Voice SDK and SIP callers are queued and connected as usual") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  auto token = create_agent(p, "alice");
  heartbeat(p, "alice", token);
  const char* callers[][2] = {{"CAc", "client:bob"}, {"CAs", "sip:carol@example.com"}};
  size_t n = 0;
  for (auto& [sid, from] : callers) {
    INFO(from);
    auto r = p.webhook("voice", "", twilio_call(sid, from));
    CHECK(has(r.body, "<Enqueue"));
    auto redirect = tw.wait_request(n++);
    CHECK(redirect.path == std::string("/2010-04-01/Accounts/ACtest/Calls/") + sid + ".json");
    std::string offer = offer_in(redirect);
    CHECK(dialled(p, sid, offer) == "client-alice");
    p.webhook("agent-leg-status", "?offer=" + offer, twilio_call("CAleg", "client:alice", {{"CallStatus", "in-progress"}}));
    r = p.webhook("dial-result", "?offer=" + offer,
                  twilio_call(sid, from, {{"DialCallStatus", "completed"}, {"DialCallDuration", "30"}}));
    CHECK(has(r.body, "<Hangup/>"));
    heartbeat(p, "alice", token);
    p.advance(15'000);  // wrap-up
  }
  std::vector<std::string> types;
  auto timeline = p.admin_get("/api/calls/CAs/timeline")["events"];
  for (auto& e : timeline)
    types.push_back(e["type"]);
  CHECK(types == std::vector<std::string>{"call.arrived", "call.enqueued", "call.offered",
                                          "call.connected", "call.completed"});
}

namespace {

/// Runs a shell command; returns its output and sets `*code` to its exit code.
std::string run_shell(const std::string& command, int* code) {
  std::string out;
  FILE* f = popen(command.c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[512];
  while (fgets(buf, sizeof buf, f) != nullptr)
    out += buf;
  int st = pclose(f);
  *code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

}  // namespace

TEST_CASE("e2e: callq --version, and every log line on stderr carries a time and a level") {
  int code = -1;
  CHECK(run_shell(std::string(CALLQ_BINARY) + " --version", &code) == "callq 0.1.0\n");
  CHECK(code == 0);
  // A server that cannot bind (a documentation-only address) logs its start
  // and the failure, then exits 1.
  temp_dir dir;
  std::string log = run_shell("env -u CALLQ_ADMIN_TOKEN -u TWILIO_ACCOUNT_SID CALLQ_BIND=203.0.113.1 "
                              "CALLQ_PORT=0 " + std::string(CALLQ_BINARY) + " serve --data-dir " +
                              dir.path() + "/data 2>&1",
                              &code);
  INFO(log);
  CHECK(code == 1);
  std::regex stamped(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) \S.*$)");
  int lines = 0;
  for (size_t at = 0, end; at < log.size(); at = end + 1, ++lines) {
    end = log.find('\n', at);
    if (end == std::string::npos)
      end = log.size();
    CHECK(std::regex_match(log.substr(at, end - at), stamped));
  }
  CHECK(lines >= 3);
  CHECK(log.find(" INFO  admin token stored in ") != std::string::npos);
  CHECK(log.find(" WARN  TWILIO_ACCOUNT_SID is not set") != std::string::npos);
  CHECK(log.find(" ERROR ") != std::string::npos);
}
