#include "actors/dispatcher/queue_config.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/dispatcher/queue_logic.hpp"

using namespace callq;
using json = nlohmann::json;

namespace {

const char* full_example = R"({
  "strategy": "round-robin", "ringAllMax": 3, "maxWaiting": 10, "whenFull": "overflow",
  "joinWhenNoAgents": false, "overflowAfterSeconds": 120, "overflowQueue": "backup",
  "serviceLevelSeconds": 30, "serviceLevelTarget": 0.9,
  "skillSteps": [ {"afterSeconds": 0, "require": {"es": 3}},
                  {"afterSeconds": 60, "require": {"es": 1}},
                  {"afterSeconds": 180, "require": {}} ],
  "preferLastAgentSeconds": 45,
  "hours": { "timezone": "Europe/Berlin",
             "weekly": {"mon": ["13:00-17:00", "08:00-12:00"], "sat": ["10:00-24:00"]},
             "closedDates": ["2026-12-25", "2026-12-24"],
             "closedMessage": "We are closed.", "closedAction": "message" }
})";

std::string refusal(const std::string& text) {
  queue_config c;
  auto st = parse_queue_config(text, &c);
  return st ? std::string("accepted") : st.message();
}

}  // namespace

TEST_CASE("queue config: every field parses, and the canonical form round-trips") {
  queue_config c;
  REQUIRE(parse_queue_config(std::string(full_example), &c));
  CHECK(c.strategy == routing_strategy::round_robin);
  CHECK(c.ring_all_max == 3);
  CHECK(c.when_full == full_action::overflow);
  CHECK_FALSE(c.join_when_no_agents);
  CHECK(c.overflow_queue == "backup");
  CHECK(c.service_level_target == Approx(0.9));
  REQUIRE(c.skill_steps.size() == 3);
  CHECK(c.skill_steps[1].require.at("es") == 1);
  REQUIRE(c.hours);
  CHECK(c.hours->weekly[0].size() == 2);
  CHECK(c.hours->weekly[0][0].from_minute == 8 * 60);  // sorted
  CHECK(c.hours->weekly[5][0].to_minute == 24 * 60);
  CHECK(c.hours->closed_dates == std::vector<std::string>{"2026-12-24", "2026-12-25"});
  CHECK(c.hours->action == closed_action::message);

  json canonical = to_json(c);
  CHECK(canonical["hours"]["weekly"]["mon"] == json::array({"08:00-12:00", "13:00-17:00"}));
  queue_config again;
  REQUIRE(parse_queue_config(canonical, &again));
  CHECK(to_json(again) == canonical);
}

TEST_CASE("queue config: an empty object is the defaults, as the contract lists them") {
  queue_config c;
  REQUIRE(parse_queue_config(std::string("{}"), &c));
  json j = to_json(c);
  CHECK(j["strategy"] == "longest-idle");
  CHECK(j["ringAllMax"] == 5);
  CHECK(j["maxWaiting"] == 0);
  CHECK(j["whenFull"] == "callback");
  CHECK(j["joinWhenNoAgents"] == true);
  CHECK(j["overflowAfterSeconds"] == 0);
  CHECK(j["overflowQueue"] == "");
  CHECK(j["serviceLevelSeconds"] == 20);
  CHECK(j["serviceLevelTarget"] == 0.8);
  CHECK(j["skillSteps"] == json::array());
  CHECK(j["preferLastAgentSeconds"] == 0);
  CHECK(j["hours"].is_null());
}

TEST_CASE("queue config: impossible values are refused with a reason naming the field") {
  struct bad_case {
    const char* body;
    const char* reason_part;
  };
  for (auto& [body, part] : std::vector<bad_case>{
           {R"({"colour": "red"})", "unknown field 'colour'"},
           {R"({"strategy": "loudest"})", "strategy must be one of"},
           {R"({"strategy": 3})", "strategy must be one of"},
           {R"({"maxWaiting": -1})", "maxWaiting must be between"},
           {R"({"overflowAfterSeconds": -5, "overflowQueue": "b"})", "overflowAfterSeconds"},
           {R"({"overflowAfterSeconds": 1.5, "overflowQueue": "b"})", "whole number"},
           {R"({"overflowAfterSeconds": 30})", "needs an overflowQueue"},
           {R"({"whenFull": "overflow"})", "needs an overflowQueue"},
           {R"({"whenFull": "shrug"})", "whenFull"},
           {R"({"joinWhenNoAgents": "yes"})", "joinWhenNoAgents"},
           {R"({"serviceLevelTarget": 1.5})", "serviceLevelTarget"},
           {R"({"ringAllMax": 0})", "ringAllMax"},
           {R"({"overflowQueue": "bad name"})", "invalid queue name"},
           {R"({"skillSteps": [{"afterSeconds": 60, "require": {}}, {"afterSeconds": 10, "require": {}}]})",
            "must increase"},
           {R"({"skillSteps": [{"afterSeconds": 0, "require": {"es": 11}}]})", "level of skill es"},
           {R"({"skillSteps": [{"after": 0}]})", "unknown field 'after'"},
           {R"({"hours": {"timezone": "Mars/Olympus_Mons"}})", "unknown time zone"},
           {R"({"hours": {"weekly": {"mon": ["08:00-12:00"]}}})", "timezone is required"},
           {R"({"hours": {"timezone": "UTC", "weekly": {"monday": []}}})", "unknown day"},
           {R"({"hours": {"timezone": "UTC", "weekly": {"mon": ["17:00-08:00"]}}})", "ends before"},
           {R"({"hours": {"timezone": "UTC", "weekly": {"mon": ["08:00-12:00", "11:00-13:00"]}}})",
            "overlaps"},
           {R"({"hours": {"timezone": "UTC", "weekly": {"mon": ["8-12"]}}})", "HH:MM-HH:MM"},
           {R"({"hours": {"timezone": "UTC", "weekly": {"mon": ["08:00-24:30"]}}})", "HH:MM-HH:MM"},
           {R"({"hours": {"timezone": "UTC", "closedDates": ["2026-02-30"]}})", "not a date"},
           {R"({"hours": {"timezone": "UTC", "closedAction": "sing"}})", "closedAction"},
           {R"({"hours": "9-5"})", "hours must be an object"},
           {R"({"hours": {"timezone": 1}})", "timezone must be a string"},
           {R"({"hours": {"timezone": "UTC", "weekly": ["mon"]}})", "weekly must be an object"},
           {R"({"hours": {"timezone": "UTC", "weekly": {"mon": "08:00-12:00"}}})",
            "weekly.mon must be an array"},
           {R"({"hours": {"timezone": "UTC", "closedDates": "2026-12-25"}})", "closedDates must be an array"},
           {R"({"hours": {"timezone": "UTC", "closedMessage": 5}})", "closedMessage must be a string"},
           {R"({"hours": {"timezone": "UTC", "open": true}})", "hours: unknown field 'open'"},
           {R"({"overflowQueue": 5})", "overflowQueue must be a string"},
           {R"({"skillSteps": {"afterSeconds": 0}})", "skillSteps must be an array"},
           {R"({"skillSteps": [5]})", "each step must be an object"},
           {R"({"skillSteps": [{"afterSeconds": 0, "require": ["es"]}]})", "must be an object of skill -> level"},
           {R"({"skillSteps": [{"afterSeconds": 0, "require": {"e:s": 1}}]})", "invalid skill name 'e:s'"},
           {R"({"screenPopUrl": 5})", "screenPopUrl must be a string"},
           {R"({"screenPopUrl": "ftp://x/"})", "http:// or https://"},
           {R"({"dispositions": "resolved"})", "dispositions must be an array"},
           {R"({"dispositions": [""]})", "1-64 characters"},
           {R"({"dispositions": ["a", "a"]})", "listed twice"},
           {R"([1, 2])", "JSON object"},
           {R"({"strategy": )", "not valid JSON"},
       }) {
    INFO(body);
    std::string why = refusal(body);
    CHECK(why.find(part) != std::string::npos);
  }
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 51; ++i)
    many.push_back("outcome-" + std::to_string(i));
  CHECK(refusal(nlohmann::json{{"dispositions", many}}.dump()).find("at most 50") != std::string::npos);
  many.erase(many.size() - 1);
  CHECK(refusal(nlohmann::json{{"dispositions", many}}.dump()) == "accepted");
}

TEST_CASE("queue names: 1-64 ASCII letters or digits or . _ -") {
  CHECK(valid_queue_name("a"));
  CHECK(valid_queue_name("Sales.EU_2-b"));
  CHECK(valid_queue_name(std::string(64, 'q')));
  CHECK_FALSE(valid_queue_name(""));
  CHECK_FALSE(valid_queue_name(std::string(65, 'q')));
  CHECK_FALSE(valid_queue_name("sales eu"));
  CHECK_FALSE(valid_queue_name("sales/eu"));
  CHECK_FALSE(valid_queue_name("agent@x"));
  CHECK_FALSE(valid_queue_name("caf\xc3\xa9"));
  CHECK_FALSE(valid_queue_name(std::string("a\0b", 3)));
  CHECK_FALSE(valid_queue_name("sales\n"));
}

TEST_CASE("queue config: overflow loops are found through the stored configurations") {
  std::map<std::string, queue_config> stored;
  queue_config to_a, to_b, to_c;
  to_a.overflow_queue = "a";
  to_b.overflow_queue = "b";
  to_c.overflow_queue = "c";
  stored["b"] = to_c;
  stored["c"] = to_a;
  CHECK(overflow_loop("a", to_b, stored) == "a -> b -> c -> a");
  CHECK(overflow_loop("a", to_c, {}) == "");
  CHECK(overflow_loop("a", to_a, {}) == "a -> a");
  stored.erase("c");
  CHECK(overflow_loop("a", to_b, stored) == "");

  // The dispatcher's decision refuses the loop and changes nothing.
  std::map<std::string, queue_config> configured{{"b", to_a}};
  auto d = decide_queue(configured, cmd::put_queue{"a", to_json(to_b).dump()}, false, 1000);
  CHECK(d.answer.result == outcome::invalid);
  CHECK(d.answer.reason.find("a -> b -> a") != std::string::npos);
  CHECK(d.events.empty());
}

TEST_CASE("queue decisions: created then updated, removal refused while in use, then removed") {
  std::map<std::string, queue_config> configured;
  auto d = decide_queue(configured, cmd::put_queue{"sales", "{\"strategy\":\"linear\"}"}, false, 5);
  CHECK(d.answer.result == outcome::created);
  REQUIRE(d.events.size() == 1);
  auto& ev = std::get<events::queue_configured>(d.events[0].body);
  CHECK(ev.queue == "sales");
  CHECK(json::parse(ev.config)["strategy"] == "linear");
  CHECK(json::parse(ev.config)["ringAllMax"] == 5);  // canonical: defaults filled in
  CHECK(d.events[0].ts_ms == 5);
  apply_queue(configured, d.events[0]);
  CHECK(configured.at("sales").strategy == routing_strategy::linear);

  d = decide_queue(configured, cmd::put_queue{"sales", "{}"}, false, 6);
  CHECK(d.answer.result == outcome::ok);
  CHECK(decide_queue(configured, cmd::delete_queue{"sales"}, true, 7).answer.result ==
        outcome::conflict);
  CHECK(decide_queue(configured, cmd::delete_queue{"other"}, false, 7).answer.result ==
        outcome::not_found);
  d = decide_queue(configured, cmd::delete_queue{"sales"}, false, 7);
  REQUIRE(d.events.size() == 1);
  apply_queue(configured, d.events[0]);
  CHECK(configured.empty());
}

TEST_CASE("skill steps: the requirement of the last step reached, skills= replaces the first") {
  std::vector<skill_step> steps{{10, {{"es", 3}}}, {60, {{"es", 1}}}, {180, {}}};
  using levels = std::map<std::string, int64_t>;
  requirement r = requirement_at(steps, 0);  // before the first step: none
  CHECK(r.step == -1);
  CHECK(r.require.empty());
  CHECK(r.next_after_seconds == 10);
  r = requirement_at(steps, 10);
  CHECK(r.step == 0);
  CHECK(r.require == levels{{"es", 3}});
  CHECK(r.next_after_seconds == 60);
  CHECK(requirement_at(steps, 59).require == levels{{"es", 3}});
  r = requirement_at(steps, 60);
  CHECK(r.step == 1);
  CHECK(r.require == levels{{"es", 1}});
  CHECK(r.next_after_seconds == 180);
  r = requirement_at(steps, 1000);
  CHECK(r.step == 2);
  CHECK(r.require.empty());
  CHECK(r.next_after_seconds == -1);
  levels webhook{{"billing", 2}};
  CHECK(requirement_at(steps, 15, &webhook).require == webhook);
  CHECK(requirement_at(steps, 70, &webhook).require == levels{{"es", 1}});
  r = requirement_at({}, 500, &webhook);  // no steps: the webhook's skills throughout
  CHECK(r.step == 0);
  CHECK(r.require == webhook);
  CHECK(r.next_after_seconds == -1);
  levels none;
  CHECK(requirement_at({}, 5, &none) == requirement{});  // nothing asked: no requirement

  std::map<std::string, int64_t> parsed;
  REQUIRE(parse_skill_list("es:3,billing", &parsed));
  CHECK(parsed == std::map<std::string, int64_t>{{"billing", 1}, {"es", 3}});
  CHECK_FALSE(parse_skill_list("es:11", &parsed));
  CHECK_FALSE(parse_skill_list("es:x", &parsed));
  CHECK_FALSE(parse_skill_list(",", &parsed));
  REQUIRE(parse_skill_list("", &parsed));
  CHECK(parsed.empty());
}

TEST_CASE("queue config: dispositions and the screen-pop link") {
  queue_config c;
  REQUIRE(parse_queue_config(
      std::string(R"({"dispositions":["resolved","follow-up"],"screenPopUrl":"https://crm.example.com/?phone={from}&n={name}&q={queue}&c={callSid}"})"),
      &c));
  CHECK(c.dispositions == std::vector<std::string>{"resolved", "follow-up"});
  CHECK(screen_pop_url(c, "+4930 1", "CA1", "support", "Ada & Bob") ==
        "https://crm.example.com/?phone=%2B4930%201&n=Ada%20%26%20Bob&q=support&c=CA1");
  // Round trip through the canonical form.
  queue_config again;
  REQUIRE(parse_queue_config(to_json(c).dump(), &again));
  CHECK(again.dispositions == c.dispositions);
  CHECK(again.screen_pop_url == c.screen_pop_url);
  // Unset, they stay out of the canonical form (older digests verify).
  CHECK_FALSE(to_json(queue_config{}).contains("dispositions"));
  CHECK_FALSE(to_json(queue_config{}).contains("screenPopUrl"));
  CHECK(screen_pop_url(queue_config{}, "+1", "CA1", "q", "n").empty());
  for (const char* bad : {R"x({"screenPopUrl":"javascript:alert(1)"})x", R"({"screenPopUrl":"ftp://x/"})",
                          R"({"dispositions":"resolved"})", R"({"dispositions":["a","a"]})",
                          R"({"dispositions":[""]})", R"({"dispositions":[3]})"}) {
    INFO(bad);
    CHECK_FALSE(parse_queue_config(std::string(bad), &c));
  }
}
