// End-to-end: a feature flag given as a share of traffic (README, "Feature
// flags by share of traffic"): 1,000 callers at 25 %, each on the same
// path every time, the flags recorded in each call's first event, and the
// report's paths side by side.
#include <map>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using nlohmann::json;

TEST_CASE("e2e: 1,000 callers at 25%: a fifth to a third take the new path, each caller always the same") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"FEATURE_QUEUE_POSITION_UPDATES", "25%"}});
  REQUIRE(p.ready());
  std::map<std::string, bool> announced;  // number -> heard its position
  for (int i = 0; i < 1000; ++i) {
    std::string number = "+1555" + std::to_string(3000000 + i);
    std::string sid = "CA" + std::to_string(i);
    REQUIRE(p.webhook("voice", "", twilio_call(sid, number)).status == 200);
    auto r = p.webhook("queue-hold-music", "", twilio_call(sid, number));
    announced[number] = has(r.body, "You are number");
    REQUIRE(p.webhook("call-status", "", twilio_call(sid, number, {{"CallStatus", "completed"}})).status == 200);
  }
  int on = 0;
  for (auto& [n, heard] : announced)
    on += heard;
  INFO(on << " of 1000 heard their position");
  CHECK(on >= 200);
  CHECK(on <= 300);
  // The same callers again: each takes the path it took before.
  for (int i = 0; i < 100; ++i) {
    std::string number = "+1555" + std::to_string(3000000 + i);
    std::string sid = "CB" + std::to_string(i);
    REQUIRE(p.webhook("voice", "", twilio_call(sid, number)).status == 200);
    auto r = p.webhook("queue-hold-music", "", twilio_call(sid, number));
    CHECK(has(r.body, "You are number") == announced[number]);
    p.webhook("call-status", "", twilio_call(sid, number, {{"CallStatus", "completed"}}));
  }
  // Every call's first event records its flags.
  auto first = p.admin_get("/api/calls/CA7/timeline")["events"][0];
  CHECK(first["type"] == "call.arrived");
  CHECK(first["data"]["flags"]["FEATURE_QUEUE_POSITION_UPDATES"] ==
        (announced["+15553000007"] ? 1 : 0));
  CHECK(first["data"]["flags"]["FEATURE_ENHANCED_QUEUE"] == 1);
  // The report sets the two paths side by side.
  json r = p.admin_get("/api/reports/queues?interval=1d&split=features");
  REQUIRE(r["features"].size() == 2);
  int64_t offered = 0;
  for (auto& path : r["features"]) {
    offered += path["offered"].get<int64_t>();
    CHECK(path["abandoned"] == path["offered"]);  // everyone hung up
    CHECK(path["connectionRate"] == 0.0);
  }
  CHECK(offered == 1100);
  CHECK(r["features"][0]["path"] == "all on");
  CHECK(r["features"][0]["offered"].get<int64_t>() >= 220);
  CHECK(r["features"][1]["path"] == "off: FEATURE_QUEUE_POSITION_UPDATES");
  CHECK(p.json_request("GET", "/api/reports/queues?split=agents", admin_token).status == 400);
}
