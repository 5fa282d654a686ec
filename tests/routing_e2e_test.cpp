// End-to-end: queue configuration and routing through the real `callq
// serve` (README, "Queues and routing").
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

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

json queue_in_status(callq_process& p, const std::string& name) {
  json status = p.admin_get("/api/queue/status");
  for (auto& q : status["queues"])
    if (q["name"] == name)
      return q;
  return nullptr;
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
  CHECK(p.terminate() == 0);
  auto verify = std::string(CALLQ_BINARY) + " replay --verify --data-dir " + data + " > /dev/null";
  CHECK(std::system(verify.c_str()) == 0);
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
