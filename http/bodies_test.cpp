#include "http/bodies.hpp"

#include <catch2/catch.hpp>

using namespace callq;
using namespace callq::http;

TEST_CASE("ids: 1-64 ASCII letters or digits or . _ @ -") {
  CHECK(valid_id("a"));
  CHECK(valid_id("ana.lopez@example-1_x"));
  CHECK(valid_id(std::string(64, 'x')));
  CHECK_FALSE(valid_id(""));
  CHECK_FALSE(valid_id(std::string(65, 'x')));
  CHECK_FALSE(valid_id("ana lopez"));
  CHECK_FALSE(valid_id("ana/lopez"));
  CHECK_FALSE(valid_id("ana+1"));
  CHECK_FALSE(valid_id("jos\xc3\xa9"));
  CHECK_FALSE(valid_id("ana\n"));
}

TEST_CASE("phone numbers: + then 2-15 digits the first not 0") {
  CHECK(valid_e164("+15551234567"));
  CHECK(valid_e164("+12"));
  CHECK(valid_e164("+123456789012345"));
  CHECK_FALSE(valid_e164("+1234567890123456"));  // 16 digits
  CHECK_FALSE(valid_e164("+1"));
  CHECK_FALSE(valid_e164("+"));
  CHECK_FALSE(valid_e164(""));
  CHECK_FALSE(valid_e164("15551234567"));
  CHECK_FALSE(valid_e164("+05551234567"));
  CHECK_FALSE(valid_e164("+1555 1234567"));
  CHECK_FALSE(valid_e164("+1555123456a"));
  CHECK_FALSE(valid_e164("++15551234567"));
}

namespace {

/// An agent body whose clientIdentity has `n` characters.
std::string json_of_identity(size_t n) {
  return R"({"clientIdentity":")" + std::string(n, 'i') + "\"}";
}

/// The refusal of `body` by `parse`, or "" when it was accepted.
template <class Parse> std::string refusal(Parse parse, const std::string& body) {
  status st = parse(body);
  return st ? std::string{} : st.message();
}

}  // namespace

TEST_CASE("heartbeat bodies: what is taken, and every refusal with its reason") {
  cmd::heartbeat h;
  REQUIRE(parse_heartbeat_body(
      R"({"agentId":"ann","status":"break","deviceRegistered":false,"reason":"lunch"})", &h));
  CHECK(h.agent_id == "ann");
  CHECK(h.status == "break");
  CHECK(h.device_registered == std::optional<bool>(false));
  CHECK(h.reason == "lunch");
  REQUIRE(parse_heartbeat_body(R"({"agentId":"ann","status":"offline","reason":null})", &h));
  CHECK(h.status == "offline");
  CHECK_FALSE(h.device_registered);  // not said: unchanged
  CHECK(h.reason.empty());
  auto parse = [](const std::string& b) {
    cmd::heartbeat x;
    return parse_heartbeat_body(b, &x);
  };
  for (auto [body, says] : {std::pair<const char*, const char*>{"[]", "JSON object"},
                            {"", "JSON object"},
                            {R"({"agentId":"","status":"busy"})", "agentId"},
                            {R"({"agentId":7,"status":"busy"})", "agentId"},
                            {R"({"agentId":"ann"})", "status must be one of"},
                            {R"({"agentId":"ann","status":"away"})", "unknown status 'away'"},
                            {R"({"agentId":"ann","status":"busy","deviceRegistered":"yes"})",
                             "deviceRegistered"},
                            {R"({"agentId":"ann","status":"busy","reason":5})", "reason must be a string"}}) {
    INFO(body);
    CHECK(refusal(parse, body).find(says) != std::string::npos);
  }
}

TEST_CASE("agent bodies: names, queues with penalties, skills with levels, and every refusal") {
  cmd::put_agent a;
  REQUIRE(parse_agent_body("", "ann", "support", &a));  // an empty body: all defaults
  CHECK(a.display_name == "ann");
  CHECK(a.client_identity == "ann");
  CHECK(a.queues == std::vector<std::string>{"support"});
  REQUIRE(parse_agent_body(R"({"name":"Ann","queues":["sales",{"name":"vip","penalty":3},{"name":"b2b"}],
                               "skills":["fr","es"]})",
                           "ann", "support", &a));
  CHECK(a.display_name == "Ann");
  CHECK(a.client_identity == "ann");
  CHECK(a.queues == std::vector<std::string>{"sales", "vip", "b2b"});
  CHECK(a.penalties == std::map<std::string, int64_t>{{"vip", 3}});  // 0 is not listed
  CHECK(a.skill_levels == std::map<std::string, int64_t>{{"es", 1}, {"fr", 1}});
  REQUIRE(parse_agent_body(R"({"queues":[{"name":"vip","penalty":1000}],"skills":{"es":10,"fr":1}})", "ann",
                           "support", &a));
  CHECK(a.penalties.at("vip") == 1000);
  CHECK(a.skill_levels == std::map<std::string, int64_t>{{"es", 10}, {"fr", 1}});
  CHECK(parse_agent_body(json_of_identity(256), "ann", "support", &a));
  auto parse = [](const std::string& b) {
    cmd::put_agent x;
    return parse_agent_body(b, "ann", "support", &x);
  };
  for (auto [body, says] : {std::pair<std::string, const char*>{"[1]", "JSON object"},
                            {R"({"name":5})", "name must be a string"},
                            {R"({"clientIdentity":""})", "clientIdentity must be 1-256"},
                            {json_of_identity(257), "clientIdentity must be 1-256"},
                            {R"({"queues":"sales"})", "queues must be an array"},
                            {R"({"queues":[5]})", "queues must be an array"},
                            {R"({"queues":[{"name":"vip","prio":1}]})", "unknown field 'prio'"},
                            {R"({"queues":[{"penalty":1}]})", "needs a \"name\""},
                            {R"({"queues":[{"name":"vip","penalty":1001}]})", "from 0 to 1000"},
                            {R"({"queues":[{"name":"vip","penalty":-1}]})", "from 0 to 1000"},
                            {R"({"queues":[{"name":"vip","penalty":1.5}]})", "from 0 to 1000"},
                            {R"({"queues":["a b"]})", "invalid queue name 'a b'"},
                            {R"({"queues":["vip",{"name":"vip"}]})", "listed twice"},
                            {R"({"skills":{"es":0}})", "from 1 to 10"},
                            {R"({"skills":{"es":11}})", "from 1 to 10"},
                            {R"({"skills":{"a:b":1}})", "invalid skill name"},
                            {R"({"skills":["a,b"]})", "invalid skill name"},
                            {R"({"skills":"es"})", "skills must be an array"}}) {
    INFO(body);
    CHECK(refusal(parse, body).find(says) != std::string::npos);
  }
}

TEST_CASE("caller bodies: name, priority and language, and every refusal") {
  cmd::put_caller c;
  REQUIRE(parse_caller_body(R"({"name":"Dana","priority":5,"language":"es-ES"})", "+15551230001", &c));
  CHECK(c.number == "+15551230001");
  CHECK(c.display_name == "Dana");
  CHECK(c.priority == 5);
  CHECK(c.language == "es-ES");
  REQUIRE(parse_caller_body(R"({"language":""})", "+15551230001", &c));  // none
  CHECK(c.language.empty());
  CHECK(c.priority == 0);
  auto parse = [](const std::string& b) {
    cmd::put_caller x;
    return parse_caller_body(b, "+15551230001", &x);
  };
  for (auto [body, says] : {std::pair<const char*, const char*>{"", "JSON object"},
                            {R"({"name":1})", "name must be a string"},
                            {R"({"priority":"high"})", "priority must be an integer"},
                            {R"({"priority":1.5})", "priority must be an integer"},
                            {R"({"language":"spanish!"})", "BCP 47"},
                            {R"({"language":5})", "BCP 47"}}) {
    INFO(body);
    CHECK(refusal(parse, body).find(says) != std::string::npos);
  }
}

TEST_CASE("callback bodies: number, queue, time and name, and every refusal") {
  cmd::schedule_callback cb;
  REQUIRE(parse_callback_body(R"({"number":"+15551230001"})", "support", &cb));
  CHECK(cb.number == "+15551230001");
  CHECK(cb.queue == "support");
  CHECK(cb.at_ms == 0);  // now
  std::string full = R"({"number":"+15551230001","queue":"sales","at":"2026-11-26T15:00:00Z","name":")";
  REQUIRE(parse_callback_body(full + std::string(200, 'n') + "\"}", "support", &cb));
  CHECK(cb.queue == "sales");
  CHECK(cb.at_ms == 1'795'705'200'000);
  CHECK(cb.name.size() == 200);
  auto parse = [](const std::string& b) {
    cmd::schedule_callback x;
    return parse_callback_body(b, "support", &x);
  };
  for (auto [body, says] : {std::pair<std::string, const char*>{"", "JSON object"},
                            {"{}", "number is required"},
                            {R"({"number":"+15551230001","when":"now"})", "unknown field 'when'"},
                            {R"({"number":15551230001})", "number must be a string"},
                            {R"({"number":"5551230001"})", "E.164"},
                            {R"({"number":"+15551230001","queue":"a b"})", "queue must be 1-64"},
                            {R"({"number":"+15551230001","at":"tomorrow"})", "at: "},
                            {R"({"number":"+15551230001","name":")" + std::string(201, 'n') + "\"}",
                             "at most 200"}}) {
    INFO(body);
    CHECK(refusal(parse, body).find(says) != std::string::npos);
  }
}
