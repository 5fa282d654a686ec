// End-to-end: what callers hear (README, "What callers hear"): a queue's
// language, voice and wording, more languages, a caller's language from
// the directory or `lang=`, the announced wait as a range, and how the
// announced waits came true in the reports.
#include <string>

#include <catch2/catch.hpp>

#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using nlohmann::json;

TEST_CASE("e2e: prompts, voices and languages per queue, the caller's language, and 400 for a bad one") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  json config = {{"voice", "Polly.Joanna"},
                 {"announceWait", "range"},
                 {"prompts", {{"greeting", "Welcome back, {name}."}, {"position", "You are caller {position}."}}},
                 {"languages", {{"es-ES", {{"voice", "Polly.Lucia"},
                                           {"prompts", {{"greetingUnknown", "Gracias por llamar."},
                                                        {"position", "Usted es el número {position}."},
                                                        {"wait", "Su espera es de {wait}."}}}}}}}};
  auto r = p.json_request("PUT", "/api/queues/support", admin_token, config);
  INFO(r.body);
  REQUIRE(r.status == 201);
  // Bad wording or tags: 400 with a reason, nothing stored.
  size_t before = p.event_count();
  r = p.json_request("PUT", "/api/queues/support", admin_token, {{"prompts", {{"greeting", "Hi {nmae}"}}}});
  CHECK(r.status == 400);
  CHECK(has(r.body, "unknown placeholder {nmae}"));
  r = p.json_request("PUT", "/api/queues/support", admin_token, {{"language", "spanish"}});
  CHECK(r.status == 400);
  CHECK(has(r.body, "BCP 47"));
  CHECK(p.json_request("PUT", "/api/callers/+15551230001", admin_token, {{"name", "Ada"}, {"language", "xx_1"}})
            .status == 400);
  CHECK(p.event_count() == before);
  REQUIRE(p.json_request("PUT", "/api/callers/+15551230001", admin_token, {{"name", "Ada"}, {"language", "en-US"}})
              .status == 200);

  // A known caller in the queue's language: its voice and wording.
  r = p.webhook("voice", "", twilio_call("CA1", "+15551230001"));
  CHECK(has(r.body, "<Say voice=\"Polly.Joanna\" language=\"en-US\">Welcome back, Ada.</Say>"));
  // `lang=` asks for Spanish: the queue speaks it.
  r = p.webhook("voice", "?lang=es-ES", twilio_call("CA2", "+15551230002"));
  CHECK(has(r.body, "<Say voice=\"Polly.Lucia\" language=\"es-ES\">Gracias por llamar.</Say>"));
  r = p.webhook("queue-hold-music", "", twilio_call("CA2", "+15551230002"));
  INFO(r.body);
  CHECK(has(r.body, "<Say voice=\"Polly.Lucia\" language=\"es-ES\">Usted es el número 2. Su espera es de "));
  CHECK((has(r.body, "entre ") || has(r.body, "menos de ")));
  // The directory's language wins over `lang=`; a language the queue does
  // not speak gets the queue's own.
  r = p.webhook("voice", "?lang=es-ES", twilio_call("CA3", "+15551230001"));
  CHECK(has(r.body, "language=\"en-US\">Welcome back, Ada.</Say>"));
  r = p.webhook("voice", "?lang=fr-FR", twilio_call("CA4", "+15551230004"));
  CHECK(has(r.body, "<Say voice=\"Polly.Joanna\" language=\"en-US\">Thank you for calling."));
  // A bad `lang=`: 400, nothing recorded.
  before = p.event_count();
  r = p.webhook("voice", "?lang=not_a_tag", twilio_call("CA5", "+15551230005"));
  CHECK(r.status == 400);
  CHECK(p.event_count() == before);
  // The call's first event records the language asked for.
  auto timeline = p.admin_get("/api/calls/CA2/timeline")["events"];
  CHECK(timeline[0]["data"]["language"] == "es-ES");
}

TEST_CASE("e2e: every announced wait is recorded with its range and compared in the reports") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url());
  REQUIRE(p.ready());
  std::string alice = create_agent(p, "alice");
  heartbeat(p, "alice", alice, "busy");  // staffed, not taking calls
  REQUIRE(p.webhook("voice", "", twilio_call("CA1", "+15551230001")).status == 200);
  auto r = p.webhook("queue-hold-music", "", twilio_call("CA1", "+15551230001"));
  CHECK(has(r.body, "You are number 1 in the queue. Your estimated wait is "));
  auto ev = p.admin_get("/api/calls/CA1/timeline")["events"];
  json announced;
  for (auto& e : ev)
    if (e["type"] == "call.announced")
      announced = e["data"];
  REQUIRE(announced.is_object());
  CHECK(announced["position"] == 1);
  CHECK(announced["waitLowSeconds"] <= announced["estimatedWaitSeconds"]);
  CHECK(announced["waitHighSeconds"] >= announced["estimatedWaitSeconds"]);
  // 100 s later alice is ready and answers.
  p.advance(100'000);
  heartbeat(p, "alice", alice, "available");
  auto redirect = tw.wait_request(0);
  std::string offer = offer_in(redirect);
  REQUIRE(p.webhook("agent-leg-status", "?offer=" + offer,
                    twilio_call("CAleg", "client:alice", {{"CallStatus", "in-progress"}}))
              .status == 200);
  json report = p.admin_get("/api/reports/queues?interval=1d");
  REQUIRE(report["queues"].size() == 1);
  json a = report["queues"][0]["announcedWait"];
  INFO(a.dump());
  CHECK(a["announcements"] == 1);
  CHECK(a["compared"] == 1);
  double est = announced["estimatedWaitSeconds"].get<double>();
  CHECK(a["medianAbsRelError"].get<double>() == Approx(std::abs(est - 100) / 100).margin(0.011));
  CHECK(a["coverage80"].get<double>() ==
        ((announced["waitLowSeconds"] <= 100 && announced["waitHighSeconds"] >= 100) ? 1.0 : 0.0));
  CHECK(a["byAhead"][0]["ahead"] == "0");
  CHECK(a["byAhead"][0]["compared"] == 1);
  CHECK(a["byAhead"][1]["compared"] == 0);
  CHECK(a["byAhead"][1]["medianAbsRelError"].is_null());
}
