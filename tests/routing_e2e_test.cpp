// End-to-end: queue configuration and routing through the real `callq
// serve` (README, "Queues and routing").
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <catch2/catch.hpp>

#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using nlohmann::json;

namespace {

std::map<std::string, std::string> call(const std::string& sid) {
  return {{"CallSid", sid},           {"AccountSid", "ACtest"},    {"From", "+15551230001"},
          {"To", "+15559990000"},     {"CallStatus", "in-progress"}, {"Direction", "inbound"}};
}


/// The entry of the status view's `list` ("queues" or "agents") whose
/// `key` is `value`, or null.
json in_status(callq_process& p, const char* list, const char* key, const std::string& value) {
  json status = p.admin_get("/api/queue/status");
  for (auto& entry : status[list])
    if (entry[key] == value)
      return entry;
  return nullptr;
}
json queue_in_status(callq_process& p, const std::string& name) {
  return in_status(p, "queues", "name", name);
}
json agent_in_status(callq_process& p, const std::string& id) {
  return in_status(p, "agents", "agentId", id);
}

/// Stops the server cleanly, then `callq replay --verify` passes on its log.
void stop_and_verify(callq_process& p, const std::string& data) {
  CHECK(p.terminate() == 0);
  auto verify = std::string(CALLQ_BINARY) + " replay --verify --data-dir " + data + " > /dev/null";
  CHECK(std::system(verify.c_str()) == 0);
}

/// The JSON export's lines about `sid` of type `type`.
std::vector<json> exported(callq_process& p, const std::string& sid, const std::string& type) {
  auto jsonl = p.json_request("GET", "/api/audit/export?format=jsonl", admin_token).body;
  std::vector<json> out;
  for (size_t at = 0, end; at < jsonl.size(); at = end + 1) {
    end = jsonl.find('\n', at);
    if (end == std::string::npos)
      end = jsonl.size();
    auto line = json::parse(jsonl.substr(at, end - at), nullptr, false);
    if (line.is_object() && line["data"]["callSid"] == sid && line["type"] == type)
      out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("e2e: queues are configured and read back, impossible configurations are refused whole") {
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  {
    callq_process p(data, tw.base_url());
    REQUIRE(p.ready());
    auto r = p.json_request("PUT", "/api/queues/sales", admin_token, {{"strategy", "linear"}});
    INFO(r.body);
    REQUIRE(r.status == 201);
    json stored = json::parse(r.body);
    CHECK(stored["strategy"] == "linear");
    CHECK(stored["ringAllMax"] == 5);  // the whole configuration, defaults filled in
    CHECK(stored["hours"].is_null());
    r = p.json_request("PUT", "/api/queues/sales", admin_token,
                       {{"strategy", "round-robin"}, {"serviceLevelSeconds", 30}});
    CHECK(r.status == 200);

    json one = p.admin_get("/api/queues/sales");
    CHECK(one["configured"] == true);
    CHECK(one["config"]["strategy"] == "round-robin");
    CHECK(one["config"]["serviceLevelSeconds"] == 30);
    CHECK(p.json_request("GET", "/api/queues/nowhere", admin_token).status == 404);
    CHECK(p.json_request("GET", "/api/queues", "").status == 401);
    CHECK(p.json_request("PUT", "/api/queues/sales", "wrong", json::object()).status == 401);

    // Refused whole, with a reason; nothing changes.
    struct refusal {
      std::string path;
      json body;
      std::string reason;
    };
    p.json_request("PUT", "/api/queues/a", admin_token, {{"overflowQueue", "b"}});
    for (auto& [path, body, reason] : std::vector<refusal>{
             {"/api/queues/sales", {{"strategy", "loudest"}}, "strategy"},
             {"/api/queues/sales", {{"colour", "red"}}, "unknown field 'colour'"},
             {"/api/queues/sales", {{"maxWaiting", -1}}, "maxWaiting"},
             {"/api/queues/sales", {{"hours", {{"timezone", "Mars/Base"}}}}, "unknown time zone"},
             {"/api/queues/b", {{"overflowQueue", "a"}}, "b -> a -> b"},
             {"/api/queues/bad%20name", json::object(), "queue name"},
         }) {
      r = p.json_request("PUT", path, admin_token, body);
      INFO(path << " " << body.dump() << " -> " << r.body);
      CHECK(r.status == 400);
      CHECK(has(r.body, reason));
    }
    CHECK(p.admin_get("/api/queues/sales")["config"]["strategy"] == "round-robin");
    // b was never configured, and no call or agent names it.
    CHECK(p.json_request("GET", "/api/queues/b", admin_token).status == 404);
  }
}

TEST_CASE("e2e: removing a queue is refused while an agent is a member, the status view shows the rules") {
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  {
    callq_process p(data, tw.base_url());
    REQUIRE(p.ready());
    REQUIRE(p.json_request("PUT", "/api/queues/sales", admin_token, {{"strategy", "fewest-calls"}}).status == 201);
    create_agent(p, "alice", {"sales"});
    create_agent(p, "bob", {"support"});
    json q = queue_in_status(p, "sales");
    REQUIRE(q.is_object());
    CHECK(q["configured"] == true);
    CHECK(q["config"]["strategy"] == "fewest-calls");
    CHECK(queue_in_status(p, "support")["config"]["strategy"] == "longest-idle");  // defaults
    CHECK(q["serviceLevel"]["today"]["ratio"] == 1.0);  // nothing counted yet
    CHECK(q["serviceLevel"]["last15m"]["answered"] == 0);
    auto metrics = p.json_request("GET", "/metrics", "");
    CHECK(has(metrics.body, "callq_queue_service_level_ratio{queue=\"sales\",window=\"today\"} 1"));
    CHECK(has(metrics.body, "callq_queue_service_level_ratio{queue=\"sales\",window=\"last15m\"} 1"));
    auto r = p.json_request("DELETE", "/api/queues/sales", admin_token);
    CHECK(r.status == 409);
    CHECK(has(r.body, "member"));
    CHECK(p.json_request("DELETE", "/api/queues/support", admin_token).status == 404);  // not configured
    REQUIRE(p.json_request("PUT", "/api/queues/backup", admin_token, {{"maxWaiting", 3}}).status == 201);
    CHECK(p.terminate() == 0);
  }
  callq_process p(data, tw.base_url());
  REQUIRE(p.ready());
  CHECK(p.admin_get("/api/queues/sales")["config"]["strategy"] == "fewest-calls");
  CHECK(p.admin_get("/api/queues/backup")["config"]["maxWaiting"] == 3);
  json names = json::array();
  json queues = p.admin_get("/api/queues");
  for (auto& q : queues["queues"])
    names.push_back(q["name"]);
  CHECK(names == json::array({"backup", "sales", "support"}));
  // alice leaves sales: now it can go, and GET no longer knows it.
  REQUIRE(p.json_request("PUT", "/api/agents/alice", admin_token, {{"queues", {"support"}}}).status == 200);
  auto r = p.json_request("DELETE", "/api/queues/sales", admin_token);
  INFO(r.body);
  CHECK(r.status == 200);
  CHECK(p.json_request("GET", "/api/queues/sales", admin_token).status == 404);
  stop_and_verify(p, data);
}

TEST_CASE("e2e: a linear queue offers its call to the top member and a penalty holds an agent back") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  REQUIRE(p.json_request("PUT", "/api/queues/support", admin_token, {{"strategy", "linear"}}).status == 201);
  // zed idles longest (longest-idle would pick it), amy comes first by id
  // but has a penalty, bob is the top member.
  auto put = [&](const std::string& id, json queues) {
    auto r = p.json_request("PUT", "/api/agents/" + id, admin_token,
                            {{"clientIdentity", "client-" + id}, {"queues", queues}, {"skills", {{"es", 4}}}});
    INFO(r.body);
    REQUIRE(r.status == 201);
    return json::parse(r.body)["token"].get<std::string>();
  };
  auto zed = put("zed", {"support"});
  auto amy = put("amy", {{{"name", "support"}, {"penalty", 2}}});
  auto bob = put("bob", {{{"name", "support"}, {"penalty", 0}}});
  heartbeat(p, "zed", zed);
  heartbeat(p, "amy", amy);
  heartbeat(p, "bob", bob);
  auto bad = p.json_request("PUT", "/api/agents/eve", admin_token,
                            {{"queues", {{{"name", "support"}, {"penalty", -1}}}}});
  CHECK(bad.status == 400);
  bad = p.json_request("PUT", "/api/agents/eve", admin_token, {{"skills", {{"es", 11}}}});
  CHECK(bad.status == 400);

  REQUIRE(p.webhook("voice", "", call("CA1")).status == 200);
  auto redirect = tw.wait_request(0);
  auto url = redirect.form["Url"];
  std::string offer = url.substr(url.find("offer=") + 6);
  auto r = p.webhook("connect-agent", "?offer=" + offer, call("CA1"));
  CHECK(has(r.body, ">client-bob</Client>"));
  // The export shows the configuration in force and each member's penalty.
  auto log = p.json_request("GET", "/api/audit/export?format=queue_log", admin_token);
  CHECK(has(log.body, "|support|amy|ADDMEMBER||2"));
  CHECK(has(log.body, "|support|bob|ADDMEMBER||0"));
  auto jsonl = p.json_request("GET", "/api/audit/export?format=jsonl", admin_token);
  CHECK(has(jsonl.body, "\"type\":\"queue.configured\""));
}

TEST_CASE("e2e: a full queue sends the next caller to its overflow queue, the export shows FULL then ENTERQUEUE") {
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  callq_process p(data, tw.base_url());
  REQUIRE(p.ready());
  auto r = p.json_request("PUT", "/api/queues/sales", admin_token,
                          {{"maxWaiting", 1}, {"whenFull", "overflow"}, {"overflowQueue", "backup"}});
  INFO(r.body);
  REQUIRE(r.status == 201);
  REQUIRE(p.json_request("PUT", "/api/queues/tiny", admin_token, {{"maxWaiting", 1}, {"whenFull", "hangup"}})
              .status == 201);

  auto first = p.webhook("voice", "?queue=sales", call("CA1"));
  CHECK(has(first.body, ">sales</Enqueue>"));
  auto second = p.webhook("voice", "?queue=sales", call("CA2"));
  INFO(second.body);
  CHECK(has(second.body, ">backup</Enqueue>"));
  CHECK(queue_in_status(p, "sales")["waiting"].size() == 1);
  CHECK(queue_in_status(p, "backup")["waiting"].size() == 1);

  // hangup: the words, then <Hangup/>, and the caller is not queued.
  CHECK(has(p.webhook("voice", "?queue=tiny", call("CA3")).body, ">tiny</Enqueue>"));
  auto refused = p.webhook("voice", "?queue=tiny", call("CA4"));
  CHECK(has(refused.body, "all our agents are busy"));
  CHECK(has(refused.body, "<Hangup/>"));
  CHECK_FALSE(has(refused.body, "<Enqueue"));
  CHECK(queue_in_status(p, "tiny")["waiting"].size() == 1);

  auto log = p.json_request("GET", "/api/audit/export?format=queue_log", admin_token).body;
  INFO(log);
  CHECK(has(log, "|CA2|sales|NONE|FULL|\n"));
  CHECK(has(log, "|CA2|backup|NONE|ENTERQUEUE|"));
  CHECK(has(log, "|CA4|tiny|NONE|FULL|\n"));
  auto jsonl = p.json_request("GET", "/api/audit/export?format=jsonl", admin_token).body;
  CHECK(has(jsonl, "\"type\":\"call.refused\""));
  stop_and_verify(p, data);
}

TEST_CASE("e2e: a closed queue answers its message, and a caller who presses 1 gets a callback at the opening") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  // Open one minute a day, two hours from now (UTC): closed now, whatever
  // the time the test runs.
  auto now_min = std::chrono::duration_cast<std::chrono::minutes>(
                     std::chrono::system_clock::now().time_since_epoch()).count() % 1440;
  int from = static_cast<int>((now_min + 120) % 1440);
  auto hhmm = [](int m) {
    char b[8];
    std::snprintf(b, sizeof b, "%02d:%02d", m / 60, m % 60);
    return std::string(b);
  };
  std::string window = hhmm(from) + "-" + (from == 1439 ? std::string("24:00") : hhmm(from + 1));
  json weekly;
  for (auto d : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"})
    weekly[d] = {window};
  json hours = {{"timezone", "UTC"}, {"weekly", weekly}, {"closedMessage", "We are closed tonight."},
                {"closedAction", "callback"}};
  auto r = p.json_request("PUT", "/api/queues/night", admin_token, {{"hours", hours}});
  INFO(r.body);
  REQUIRE(r.status == 201);
  hours["closedAction"] = "message";
  REQUIRE(p.json_request("PUT", "/api/queues/info", admin_token, {{"hours", hours}}).status == 201);

  auto message_only = p.webhook("voice", "?queue=info", call("CA5"));
  CHECK(has(message_only.body, "<Say>We are closed tonight.</Say>"));
  CHECK_FALSE(has(message_only.body, "<Gather"));
  CHECK(has(message_only.body, "<Hangup/>"));

  auto answer = p.webhook("voice", "?queue=night", call("CA6"));
  INFO(answer.body);
  CHECK(has(answer.body, "<Say>We are closed tonight.</Say>"));
  CHECK(has(answer.body, "/api/webhooks/twilio/callback-response"));
  CHECK_FALSE(has(answer.body, "<Enqueue"));
  auto booked = p.webhook("callback-response", "", [&] {
    auto f = call("CA6");
    f["Digits"] = "1";
    return f;
  }());
  CHECK(has(booked.body, "when we open"));
  CHECK(has(booked.body, "<Hangup/>"));
  // Scheduled, not waiting: nobody is in the line until the opening.
  CHECK(queue_in_status(p, "night")["waiting"].size() == 0);
  auto jsonl = p.json_request("GET", "/api/audit/export?format=jsonl", admin_token).body;
  auto at = jsonl.find("\"type\":\"callback.requested\"");
  REQUIRE(at != std::string::npos);
  auto line_end = jsonl.find('\n', at);
  auto line = json::parse(jsonl.substr(jsonl.rfind('\n', at) + 1, line_end - jsonl.rfind('\n', at) - 1));
  int64_t due = line["data"]["dueMs"];
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(due > now_ms + 100 * 60'000);
  CHECK(due < now_ms + 121 * 60'000);
  CHECK(due % 60'000 == 0);
  auto log = p.json_request("GET", "/api/audit/export?format=queue_log", admin_token).body;
  CHECK(has(log, "|CA6|night|NONE|JOINEMPTY|1|1|0\n"));
  CHECK(has(log, "|CA5|info|NONE|JOINEMPTY|1|1|0\n"));
  CHECK_FALSE(has(log, "|CA6|night|NONE|EXITWITHKEY|"));
}

TEST_CASE("e2e: a skilled call goes to the skilled agent, relaxes to anyone after its step, and the export shows when") {
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  callq_process p(data, tw.base_url());
  REQUIRE(p.ready());
  json steps = {{{"afterSeconds", 0}, {"require", {{"es", 3}}}}, {{"afterSeconds", 60}, {"require", json::object()}}};
  auto r = p.json_request("PUT", "/api/queues/spanish", admin_token, {{"skillSteps", steps}});
  INFO(r.body);
  REQUIRE(r.status == 201);
  auto put = [&](const std::string& id, json skills) {
    auto a = p.json_request("PUT", "/api/agents/" + id, admin_token,
                            {{"clientIdentity", "client-" + id}, {"queues", {"spanish"}}, {"skills", skills}});
    REQUIRE(a.status == 201);
    return json::parse(a.body)["token"].get<std::string>();
  };
  auto bob = put("bob", json::array());    // ready first, speaks no Spanish
  auto ana = put("ana", {{"es", 4}});
  heartbeat(p, "bob", bob);
  CHECK(p.webhook("voice", "?queue=spanish&skills=es:11", call("CA0")).status == 400);

  REQUIRE(has(p.webhook("voice", "?queue=spanish", call("CA1")).body, ">spanish</Enqueue>"));
  heartbeat(p, "ana", ana);  // CA1 waited for her although bob was ready
  auto offer_of = [&](size_t n) {
    auto url = tw.wait_request(n).form["Url"];
    return url.substr(url.find("offer=") + 6);
  };
  std::string first = offer_of(0);
  CHECK(has(p.webhook("connect-agent", "?offer=" + first, call("CA1")).body, ">client-ana</Client>"));
  p.webhook("agent-leg-status", "?offer=" + first, [] {
    auto f = call("CAleg1");
    f["CallStatus"] = "in-progress";
    return f;
  }());

  // CA2 needs Spanish too; ana is on CA1 and bob cannot take it yet.
  REQUIRE(has(p.webhook("voice", "?queue=spanish", call("CA2")).body, ">spanish</Enqueue>"));
  auto waiting = queue_in_status(p, "spanish")["waiting"];
  REQUIRE(waiting.size() == 1);
  CHECK(waiting[0]["callSid"] == "CA2");
  CHECK(tw.requests().size() == 1);
  // Half-way bob heartbeats (he stays fresh) and still gets nothing.
  p.advance(30'000);
  heartbeat(p, "bob", bob);
  CHECK(tw.requests().size() == 1);
  p.advance(30'000);  // CA2's second step: anyone; the timer alone offers it
  std::string second = offer_of(1);
  CHECK(has(p.webhook("connect-agent", "?offer=" + second, call("CA2")).body, ">client-bob</Client>"));

  auto relaxed = exported(p, "CA2", "call.requirements_set");
  auto offered = exported(p, "CA2", "call.offered");
  REQUIRE(relaxed.size() == 2);
  CHECK(relaxed[0]["data"]["require"] == json{{"es", 3}});
  CHECK(relaxed[1]["data"]["step"] == 1);
  CHECK(relaxed[1]["data"]["require"] == json::object());
  CHECK(relaxed[1]["ts"].get<int64_t>() - relaxed[0]["ts"].get<int64_t>() == 60'000);
  // Offered to bob only once it had relaxed (virtual time stood still
  // until the advance, so an early offer would carry the earlier time).
  REQUIRE(offered.size() == 1);
  CHECK(offered[0]["data"]["agentId"] == "bob");
  CHECK(offered[0]["ts"] == relaxed[1]["ts"]);
  stop_and_verify(p, data);
}


TEST_CASE("e2e: a caller who waited overflowAfterSeconds moves on, ahead of later callers there, the export shows EXITWITHTIMEOUT then ENTERQUEUE") {
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  callq_process p(data, tw.base_url());
  REQUIRE(p.ready());
  auto r = p.json_request("PUT", "/api/queues/first", admin_token,
                          {{"overflowAfterSeconds", 30}, {"overflowQueue", "second"}});
  INFO(r.body);
  REQUIRE(r.status == 201);
  std::string bob = create_agent(p, "bob", {"second"});

  REQUIRE(has(p.webhook("voice", "?queue=first", call("CA1")).body, ">first</Enqueue>"));
  p.advance(10'000);
  REQUIRE(has(p.webhook("voice", "?queue=second", call("CA2")).body, ">second</Enqueue>"));
  p.advance(19'999);  // a millisecond early: still in first
  CHECK(queue_in_status(p, "first")["waiting"].size() == 1);
  p.advance(1);
  auto first = queue_in_status(p, "first");
  auto second = queue_in_status(p, "second");
  INFO(second.dump());
  CHECK(first["waiting"].empty());
  REQUIRE(second["waiting"].size() == 2);
  CHECK(second["waiting"][0]["callSid"] == "CA1");  // its enqueue time is earlier than CA2's
  CHECK(second["waiting"][0]["waitSeconds"] == 30);
  CHECK(second["waiting"][1]["callSid"] == "CA2");

  heartbeat(p, "bob", bob);
  auto url = tw.wait_request(0).form["Url"];
  std::string offer = url.substr(url.find("offer=") + 6);
  CHECK(has(p.webhook("connect-agent", "?offer=" + offer, call("CA1")).body, ">client-bob</Client>"));

  auto log = p.json_request("GET", "/api/audit/export?format=queue_log", admin_token).body;
  INFO(log);
  CHECK(has(log, "|CA1|first|NONE|EXITWITHTIMEOUT|1|1|30\n"));
  CHECK(has(log, "|CA1|second|NONE|ENTERQUEUE||"));
  CHECK(log.find("|CA1|first|NONE|EXITWITHTIMEOUT|") < log.find("|CA1|second|NONE|ENTERQUEUE|"));
  auto moved = exported(p, "CA1", "call.overflowed");
  auto enqueued = exported(p, "CA1", "call.enqueued");
  REQUIRE(moved.size() == 1);
  REQUIRE(enqueued.size() == 1);
  CHECK(moved[0]["data"]["toQueue"] == "second");
  CHECK(moved[0]["ts"].get<int64_t>() - enqueued[0]["ts"].get<int64_t>() == 30'000);
  stop_and_verify(p, data);
}

TEST_CASE("e2e: a caller waits preferLastAgentSeconds for the agent they talked to, then anyone takes the call") {
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  callq_process p(data, tw.base_url());
  REQUIRE(p.ready());
  REQUIRE(p.json_request("PUT", "/api/queues/loyal", admin_token, {{"preferLastAgentSeconds", 30}}).status == 201);
  std::string ana = create_agent(p, "ana", {"loyal"});
  std::string bob = create_agent(p, "bob", {"loyal"});
  auto offer_of = [&](size_t n) {
    auto url = tw.wait_request(n).form["Url"];
    return url.substr(url.find("offer=") + 6);
  };
  auto answer = [&](const std::string& sid, const std::string& offer) {
    auto f = call("CAleg-" + sid);
    f["CallStatus"] = "in-progress";
    p.webhook("agent-leg-status", "?offer=" + offer, f);
  };

  // The caller talks to ana once (bob is not there yet).
  heartbeat(p, "ana", ana);
  REQUIRE(has(p.webhook("voice", "?queue=loyal", call("CA1")).body, ">loyal</Enqueue>"));
  std::string o1 = offer_of(0);
  answer("CA1", o1);
  auto done = call("CA1");
  done["DialCallStatus"] = "completed";
  done["DialCallDuration"] = "42";
  p.webhook("dial-result", "?offer=" + o1, done);  // ana: wrap-up

  // Calling again, they wait for ana (in wrap-up, staffed), not for bob.
  heartbeat(p, "bob", bob);
  REQUIRE(has(p.webhook("voice", "?queue=loyal", call("CA2")).body, ">loyal</Enqueue>"));
  auto waiting = queue_in_status(p, "loyal")["waiting"];
  REQUIRE(waiting.size() == 1);
  CHECK(waiting[0]["preferredAgent"] == "ana");
  CHECK(tw.requests().size() == 1);
  heartbeat(p, "ana", ana);
  p.advance(15'000);  // ana's wrap-up ends: the call is hers
  std::string o2 = offer_of(1);
  CHECK(has(p.webhook("connect-agent", "?offer=" + o2, call("CA2")).body, ">client-ana</Client>"));
  answer("CA2", o2);

  // A third call while ana talks: after 30 s anyone (bob) may take it.
  REQUIRE(has(p.webhook("voice", "?queue=loyal", call("CA3")).body, ">loyal</Enqueue>"));
  p.advance(20'000);
  heartbeat(p, "bob", bob);
  CHECK(tw.requests().size() == 2);
  p.advance(10'000);
  std::string o3 = offer_of(2);
  CHECK(has(p.webhook("connect-agent", "?offer=" + o3, call("CA3")).body, ">client-bob</Client>"));

  auto prefs = exported(p, "CA3", "call.agent_preferred");
  auto offered = exported(p, "CA3", "call.offered");
  REQUIRE(prefs.size() == 2);
  CHECK(prefs[0]["data"]["agentId"] == "ana");
  CHECK(prefs[1]["data"]["agentId"] == "");
  CHECK(prefs[1]["data"]["reason"] == "timeout");
  CHECK(prefs[1]["ts"].get<int64_t>() - prefs[0]["ts"].get<int64_t>() == 30'000);
  REQUIRE(offered.size() == 1);
  CHECK(offered[0]["ts"] == prefs[1]["ts"]);
  stop_and_verify(p, data);
}

TEST_CASE("e2e: a callback booked through the API starts at its time with the directory's priority, cancel, list and bad input") {
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  callq_process p(data, tw.base_url());
  REQUIRE(p.ready());
  // Bad input: 400 with a reason, nothing booked.
  for (json bad : {json{{"queue", "support"}},
                   json{{"number", "5551234"}},
                   json{{"number", "+15551234567"}, {"when", "soon"}},
                   json{{"number", "+15551234567"}, {"at", "tomorrow at 3"}},
                   json{{"number", "+15551234567"}, {"queue", "no spaces"}},
                   json{{"number", 15551234567LL}}}) {
    auto r = p.json_request("POST", "/api/callbacks", admin_token, bad);
    INFO(bad.dump() << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(has(r.body, "error"));
  }
  CHECK(p.json_request("GET", "/api/callbacks?state=lost", admin_token).status == 400);
  CHECK(json::parse(p.json_request("GET", "/api/callbacks", admin_token).body)["callbacks"].empty());
  REQUIRE(p.json_request("PUT", "/api/callers/+15551234567", admin_token, {{"name", "Ada"}, {"priority", 1}})
              .status == 200);
  std::string bob = create_agent(p, "bob", {"support"});

  // Booked for an hour from the server's now (its virtual clock).
  auto probe = p.json_request("POST", "/api/callbacks", admin_token, {{"number", "+15557654321"}});
  REQUIRE(probe.status == 201);
  std::string probe_id = json::parse(probe.body)["callbackId"];
  CHECK(json::parse(probe.body)["state"] == "waiting");  // no time: at once
  int64_t t0 = exported(p, probe_id, "callback.scheduled").at(0)["ts"].get<int64_t>();
  int64_t due = (t0 / 1000 + 3600) * 1000;
  std::string at = [&] {
    std::time_t secs = static_cast<std::time_t>(due / 1000);
    char b[32];
    std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S.000Z", std::gmtime(&secs));
    return std::string(b);
  }();
  auto booked = p.json_request("POST", "/api/callbacks", admin_token,
                               {{"number", "+15551234567"}, {"queue", "support"}, {"at", at}});
  INFO(booked.body);
  REQUIRE(booked.status == 201);
  std::string id = json::parse(booked.body)["callbackId"];
  CHECK(json::parse(booked.body)["state"] == "scheduled");
  auto spare = p.json_request("POST", "/api/callbacks", admin_token,
                              {{"number", "+15551230009"}, {"at", at}, {"name", "Cy"}});
  std::string spare_id = json::parse(spare.body)["callbackId"];

  auto scheduled = json::parse(p.json_request("GET", "/api/callbacks?state=scheduled", admin_token).body);
  REQUIRE(scheduled["callbacks"].size() == 2);
  CHECK(scheduled["callbacks"][0]["callbackId"] == id);  // oldest first
  CHECK(scheduled["callbacks"][0]["name"] == "Ada");     // the directory's
  CHECK(scheduled["callbacks"][0]["dueAt"] == at);
  CHECK(scheduled["callbacks"][1]["name"] == "Cy");
  CHECK(queue_in_status(p, "support")["waiting"].size() == 1);  // only the probe

  // Cancel: the spare goes; the probe, waiting but never tried, too.
  auto canceled = p.json_request("DELETE", "/api/callbacks/" + spare_id, admin_token);
  CHECK(canceled.status == 200);
  CHECK(json::parse(canceled.body)["state"] == "canceled");
  CHECK(p.json_request("DELETE", "/api/callbacks/" + spare_id, admin_token).status == 409);
  CHECK(p.json_request("DELETE", "/api/callbacks/" + probe_id, admin_token).status == 200);
  CHECK(p.json_request("DELETE", "/api/callbacks/CB999", admin_token).status == 404);
  CHECK(json::parse(p.json_request("GET", "/api/callbacks?state=canceled", admin_token).body)["callbacks"].size() == 2);

  // The directory changes before the time: the callback joins with it.
  REQUIRE(p.json_request("PUT", "/api/callers/+15551234567", admin_token, {{"name", "Ada"}, {"priority", 7}})
              .status == 200);
  p.advance(due - t0 - 1);
  CHECK(queue_in_status(p, "support")["waiting"].empty());
  p.advance(1);
  auto waiting = queue_in_status(p, "support")["waiting"];
  REQUIRE(waiting.size() == 1);
  CHECK(waiting[0]["callSid"] == id);
  CHECK(waiting[0]["priority"] == 7);
  CHECK(tw.requests().empty());

  // An agent comes: the callback rings the agent first, as a caller's does.
  heartbeat(p, "bob", bob);
  auto call_agent = tw.wait_request(0);
  CHECK(call_agent.path == "/2010-04-01/Accounts/ACtest/Calls.json");
  CHECK(call_agent.form["To"] == "client:client-bob");
  CHECK(has(call_agent.form["Url"], "callback-connect?callback=" + id));
  auto started = json::parse(p.json_request("GET", "/api/callbacks?state=started", admin_token).body);
  REQUIRE(started["callbacks"].size() == 1);
  CHECK(started["callbacks"][0]["agentId"] == "bob");
  auto refused = p.json_request("DELETE", "/api/callbacks/" + id, admin_token);
  CHECK(refused.status == 409);
  CHECK(has(refused.body, "started"));
  auto dial = p.webhook("callback-connect", "?callback=" + id, call("CAcb1"));
  CHECK(has(dial.body, "+15551234567"));

  auto due_events = exported(p, id, "callback.due");
  REQUIRE(due_events.size() == 1);
  CHECK(due_events[0]["ts"] == due);
  stop_and_verify(p, data);
}


TEST_CASE("e2e: ring-all dials every ready member at once, the first leg answering wins, a no-answer is a miss for each") {
  fake_twilio tw;
  temp_dir dir;
  std::string data = dir.path() + "/data";
  callq_process p(data, tw.base_url());
  REQUIRE(p.ready());
  REQUIRE(p.json_request("PUT", "/api/queues/team", admin_token, {{"strategy", "ring-all"}, {"ringAllMax", 3}})
              .status == 201);
  for (const char* id : {"ann", "bob", "cy"})
    heartbeat(p, id, create_agent(p, id, {"team"}));
  auto offer_of = [&](size_t n) {
    auto url = tw.wait_request(n).form["Url"];
    return url.substr(url.find("offer=") + 6);
  };

  REQUIRE(has(p.webhook("voice", "?queue=team", call("CA1")).body, ">team</Enqueue>"));
  std::string o1 = offer_of(0);
  auto dial = p.webhook("connect-agent", "?offer=" + o1, call("CA1")).body;
  INFO(dial);
  for (const char* id : {"ann", "bob", "cy"}) {
    CHECK(has(dial, "agent-leg-status?offer=" + o1 + "&amp;agent=" + id + "\">client-" + id + "</Client>"));
    CHECK(agent_in_status(p, id)["state"] == "ringing");
  }
  // Bob's leg and then cy's report in-progress: bob's call; everyone else free at once.
  auto leg = [&](const std::string& offer, const std::string& agent) {
    auto f = call("CAleg-" + agent);
    f["CallStatus"] = "in-progress";
    return p.webhook("agent-leg-status", "?offer=" + offer + "&agent=" + agent, f);
  };
  CHECK(leg(o1, "bob").status == 200);
  CHECK(leg(o1, "cy").status == 200);
  CHECK(agent_in_status(p, "bob")["state"] == "on-call");
  CHECK(agent_in_status(p, "ann")["state"] != "ringing");
  CHECK(agent_in_status(p, "cy")["state"] != "on-call");
  CHECK(agent_in_status(p, "ann")["missedOffers"] == 0);
  auto done = call("CA1");
  done["DialCallStatus"] = "completed";
  done["DialCallDuration"] = "20";
  p.webhook("dial-result", "?offer=" + o1, done);

  // The next caller rings ann and cy (bob is in wrap-up); nobody answers.
  REQUIRE(has(p.webhook("voice", "?queue=team", call("CA2")).body, ">team</Enqueue>"));
  std::string o2 = offer_of(1);
  auto second = p.webhook("connect-agent", "?offer=" + o2, call("CA2")).body;
  CHECK(has(second, "&amp;agent=ann"));
  CHECK(has(second, "&amp;agent=cy"));
  CHECK_FALSE(has(second, "&amp;agent=bob"));
  auto missed = call("CA2");
  missed["DialCallStatus"] = "no-answer";
  p.webhook("dial-result", "?offer=" + o2, missed);
  CHECK(agent_in_status(p, "ann")["missedOffers"] == 1);
  CHECK(agent_in_status(p, "cy")["missedOffers"] == 1);

  auto log = p.json_request("GET", "/api/audit/export?format=queue_log", admin_token).body;
  INFO(log);
  CHECK(has(log, "|CA1|team|bob|CONNECT|"));
  CHECK(has(log, "|CA2|team|ann|RINGNOANSWER|"));
  CHECK(has(log, "|CA2|team|cy|RINGNOANSWER|"));
  auto connected = exported(p, "CA1", "call.connected");
  REQUIRE(connected.size() == 1);  // exactly one leg won
  CHECK(connected[0]["data"]["agentId"] == "bob");
  stop_and_verify(p, data);
}
