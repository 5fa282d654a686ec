// Browser tests: the wallboard and the reports pages in a real headless
// Chromium (tests/browser.hpp) against the real `callq serve`. Screenshots
// of both pages are kept under the build directory (CALLQ_SCREENSHOTS).
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "events/codec.hpp"
#include "tests/browser.hpp"
#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using nlohmann::json;

namespace {

const std::string viewer_token = "e2e-viewer-token";

std::map<std::string, std::string> call(const std::string& sid, std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> f = {{"CallSid", sid}, {"AccountSid", "ACtest"},
                                          {"From", "+15551230001"}, {"To", "+15559990000"},
                                          {"CallStatus", "in-progress"}, {"Direction", "inbound"}};
  for (auto& [k, v] : extra)
    f[k] = v;
  return f;
}

std::string screenshot_path(const std::string& name) {
  std::filesystem::create_directories(CALLQ_SCREENSHOTS);
  return std::string(CALLQ_SCREENSHOTS) + "/" + name + ".png";
}

/// The JavaScript test for "the page shows `sid` waiting in `queue`, and
/// `count` calls waiting there".
std::string shows_waiting(const std::string& queue, const std::string& sid, int count) {
  std::string tile = "document.querySelector('[data-queue=\"" + queue + "\"]')";
  return "(() => { const t = " + tile + "; return !!t && !!t.querySelector('[data-call-sid=\"" + sid +
         "\"]') && t.querySelector('.waiting-count').textContent === '" + std::to_string(count) +
         "'; })()";
}

std::string agent_state_is(const std::string& agent, const std::string& state) {
  return "(() => { const s = document.querySelector('tr[data-agent=\"" + agent +
         "\"] .state'); return !!s && s.textContent === '" + state + "'; })()";
}

/// callq with the viewer token, on a fake Twilio, and its address.
struct page_server {
  fake_twilio tw;
  temp_dir dir;
  std::map<std::string, std::string> env = {{"CALLQ_VIEWER_TOKEN", viewer_token}};
  std::unique_ptr<callq_process> p = start();
  std::string base = "http://127.0.0.1:" + std::to_string(p->port());

  /// Starts callq on the data directory (again, after a kill).
  std::unique_ptr<callq_process> start() {
    return std::make_unique<callq_process>(dir.path() + "/data", tw.base_url(), env);
  }
};

}  // namespace

TEST_CASE("browser: the wallboard shows a new call within a second, follows a heartbeat, and recovers after a restart") {
  page_server s;
  auto& p = s.p;
  const std::string& base = s.base;
  REQUIRE(p->ready());
  int port = p->port();
  auto token = create_agent(*p, "alice", {"support"});
  REQUIRE(p->webhook("voice", "", call("CA1")).status == 200);

  browser b;
  INFO(b.why());
  REQUIRE(b.ready());
  REQUIRE(b.open(base + "/wallboard#token=" + viewer_token));
  CHECK(b.wait("!!document.querySelector('#connection.live')", 5000) >= 0);
  CHECK(b.wait(shows_waiting("support", "CA1", 1), 2000) >= 0);
  CHECK(b.eval("location.hash") == "");  // the token left the address bar
  CHECK(b.eval("localStorage.getItem('callq.token')") == viewer_token);
  CHECK(b.wait(agent_state_is("alice", "offline"), 2000) >= 0);
  b.eval("window.notReloaded = true");

  // A signed incoming-call webhook: the call and the count within 1 s.
  REQUIRE(p->webhook("voice", "", call("CA2", {{"From", "+15551230002"}})).status == 200);
  long ms = b.wait(shows_waiting("support", "CA2", 2), 1000);
  INFO("the new call appeared after " << ms << " ms");
  CHECK(ms >= 0);
  CHECK(ms <= 1000);
  // A heartbeat changes the agent's state on the page, within 1 s too.
  heartbeat(*p, "alice", token, "break");
  ms = b.wait(agent_state_is("alice", "break"), 1000);
  CHECK(ms >= 0);
  CHECK(b.eval("document.querySelector('tr[data-agent=\"alice\"] .in-state').textContent")
            .get<std::string>()
            .rfind("0:0", 0) == 0);
  CHECK(b.eval("document.querySelector('[data-queue=\"support\"] [data-state=\"break\"]').textContent")
            .get<std::string>() == "break 1");
  CHECK(b.screenshot(screenshot_path("wallboard")));

  // Nothing but callq's own files and data was loaded, and nothing failed.
  auto log = b.call({{"op", "log"}});
  INFO(log.dump());
  for (auto& url : log["requests"])
    CHECK((url.get<std::string>().rfind(base + "/", 0) == 0 || url.get<std::string>().rfind("data:", 0) == 0));
  CHECK(log["errors"].empty());
  CHECK(log["requests"].size() >= 5);  // page, style, two scripts, data

  // Kill the server: the page says so; start it again on the same port:
  // the page recovers by itself, without a reload.
  p->kill_hard();
  CHECK(b.wait("!!document.querySelector('#connection.down')", 5000) >= 0);
  s.env["CALLQ_PORT"] = std::to_string(port);
  p = s.start();
  REQUIRE(p->ready());
  REQUIRE(p->port() == port);
  CHECK(b.wait("!!document.querySelector('#connection.live')", 10000) >= 0);
  REQUIRE(p->webhook("voice", "", call("CA3", {{"From", "+15551230003"}})).status == 200);
  ms = b.wait(shows_waiting("support", "CA3", 3), 1000);
  CHECK(ms >= 0);
  CHECK(b.eval("window.notReloaded === true") == true);
  CHECK(b.screenshot(screenshot_path("wallboard-after-restart")));
}

TEST_CASE("browser: the wallboard asks for a token it lacks or that is refused, and keeps it") {
  page_server s;
  callq_process& p = *s.p;
  const std::string& base = s.base;
  REQUIRE(p.ready());
  browser b;
  INFO(b.why());
  REQUIRE(b.ready());
  REQUIRE(b.open(base + "/wallboard#token=wrong"));
  CHECK(b.wait("!document.getElementById('token-form').hidden", 5000) >= 0);
  CHECK(b.eval("document.getElementById('token-message').textContent").get<std::string>().find("refused") !=
        std::string::npos);
  CHECK(b.eval("localStorage.getItem('callq.token')").is_null());  // a refused token is forgotten
  b.eval("document.getElementById('token-input').value = '" + viewer_token +
         "'; document.getElementById('token-form').requestSubmit(); 1");
  CHECK(b.wait("!!document.querySelector('#connection.live')", 5000) >= 0);
  // A reload finds the token in the browser's storage.
  REQUIRE(b.open(base + "/wallboard"));
  CHECK(b.wait("!!document.querySelector('#connection.live')", 5000) >= 0);
  CHECK(b.eval("!document.getElementById('token-form') || document.getElementById('token-form').hidden") ==
        true);
}

TEST_CASE("browser: the reports page charts and agent table equal GET /api/reports/queues for a scripted day") {
  page_server s;
  callq_process& p = *s.p;
  const std::string& base = s.base;
  REQUIRE(p.ready());
  auto token = create_agent(p, "alice", {"support"});
  REQUIRE(p.json_request("PUT", "/api/queues/support", admin_token,
                         {{"serviceLevelSeconds", 30}, {"serviceLevelTarget", 0.9}})
              .status == 201);
  // Virtual time passes in heartbeat-sized steps, so alice stays fresh.
  auto pass = [&](int seconds, const std::string& status) {
    for (; seconds > 0; seconds -= 20) {
      p.advance(std::min(seconds, 20) * 1000);
      heartbeat(p, "alice", token, status);
    }
  };
  // The offer callq made for `sid` (its REST redirect to connect-agent).
  auto offer_for = [&](const std::string& sid) {
    std::string offer;
    s.tw.wait_for([&](const std::vector<rest_request>& reqs) {
      for (auto& r : reqs) {
        auto url = r.form.count("Url") ? r.form.at("Url") : std::string();
        if (r.path.find("/Calls/" + sid + ".json") != std::string::npos &&
            url.find("connect-agent?offer=") != std::string::npos)
          offer = url.substr(url.find("offer=") + 6);
      }
      return !offer.empty();
    });
    return offer;
  };
  // One call answered by alice after `wait` seconds, talking `talk`.
  auto answered = [&](const std::string& sid, int wait, int talk) {
    heartbeat(p, "alice", token, "break");
    REQUIRE(p.webhook("voice", "", call(sid)).status == 200);
    pass(wait, "break");
    heartbeat(p, "alice", token, "available");
    std::string offer = offer_for(sid);
    REQUIRE_FALSE(offer.empty());
    REQUIRE(p.webhook("connect-agent", "?offer=" + offer, call(sid)).status == 200);
    REQUIRE(p.webhook("agent-leg-status", "?offer=" + offer,
                      call("L" + sid, {{"From", "client:alice"}, {"CallStatus", "in-progress"}}))
                .status == 200);
    pass(talk, "available");
    REQUIRE(p.webhook("dial-result", "?offer=" + offer,
                      call(sid, {{"DialCallStatus", "completed"}, {"DialCallDuration", std::to_string(talk)}}))
                .status == 200);
    pass(20, "available");  // wrap-up
  };
  answered("CA1", 0, 120);
  answered("CA2", 45, 60);  // outside the 30 s service level
  heartbeat(p, "alice", token, "break");
  REQUIRE(p.webhook("voice", "", call("CA3", {{"From", "+15551230003"}})).status == 200);
  pass(40, "break");
  REQUIRE(p.webhook("queue-handler", "", call("CA3", {{"QueueResult", "hangup"}, {"QueueTime", "40"}}))
              .status == 200);
  pass(3600, "break");  // the next hour
  answered("CA4", 10, 300);
  REQUIRE(p.webhook("voice", "", call("CA5", {{"From", "+15551230005"}})).status == 200);
  p.advance(5000);
  REQUIRE(p.webhook("queue-handler", "", call("CA5", {{"QueueResult", "hangup"}, {"QueueTime", "5"}}))
              .status == 200);

  // The period: the UTC days from the first event to now (virtual time).
  auto export_first = p.json_request("GET", "/api/audit/export?format=jsonl", admin_token);
  REQUIRE(export_first.status == 200);
  int64_t start_ms = json::parse(export_first.body.substr(0, export_first.body.find('\n')))["ts"].get<int64_t>();
  int64_t end_ms = 0;
  {
    auto last = export_first.body.substr(0, export_first.body.size() - 1);
    end_ms = json::parse(last.substr(last.rfind('\n') + 1))["ts"].get<int64_t>();
  }
  const int64_t day = 86'400'000;
  int64_t from_ms = start_ms - start_ms % day, to_ms = end_ms - end_ms % day + day;
  std::string from_day = callq::events::format_iso8601(from_ms).substr(0, 10);
  std::string to_day = callq::events::format_iso8601(to_ms - day).substr(0, 10);

  auto api = p.json_request("GET", "/api/reports/queues?from=" + callq::events::format_iso8601(from_ms) +
                                       "&to=" + callq::events::format_iso8601(to_ms) + "&interval=1h",
                            viewer_token);
  REQUIRE(api.status == 200);
  json report = json::parse(api.body);
  REQUIRE(report["queues"].size() == 1);
  json q = report["queues"][0];
  REQUIRE(q["total"]["offered"] == 5);
  REQUIRE(q["total"]["answered"] == 3);
  REQUIRE(q["total"]["abandoned"] == 2);

  browser b;
  INFO(b.why());
  REQUIRE(b.ready());
  REQUIRE(b.open(base + "/reports?from=" + from_day + "&to=" + to_day + "&interval=1h&queue=support#token=" +
                 viewer_token));
  REQUIRE(b.wait("!!window.callqReports && !!window.callqReports.charts.aht", 10000) >= 0);
  json shown = b.eval(R"((() => {
    const c = window.callqReports.charts;
    const rows = [...document.querySelectorAll('#agents tbody tr')].map((tr) => ({
      agentId: tr.dataset.agent,
      answered: +tr.querySelector('.answered').dataset.value,
      talkSeconds: +tr.querySelector('.talk').dataset.value,
      missedOffers: +tr.querySelector('.missed').dataset.value,
      pausedSeconds: +tr.querySelector('.paused').dataset.value}));
    return {labels: c.calls.data.labels,
            calls: c.calls.data.datasets.map((d) => ({label: d.label, data: d.data})),
            sl: c.serviceLevel.data.datasets.map((d) => ({label: d.label, data: d.data})),
            asa: c.asa.data.datasets[0].data, aht: c.aht.data.datasets[0].data, agents: rows};
  })())");
  INFO(shown.dump());
  size_t hours = static_cast<size_t>((to_ms - from_ms) / 3'600'000);
  REQUIRE(shown["labels"].size() == hours);
  REQUIRE(shown["calls"].size() == 3);
  CHECK(shown["calls"][0]["label"] == "offered");
  CHECK(shown["calls"][1]["label"] == "answered");
  CHECK(shown["calls"][2]["label"] == "abandoned");
  REQUIRE(shown["sl"].size() == 2);
  CHECK(shown["sl"][1]["label"] == "support target");

  // Every interval of the period: the API's row, or nothing happened.
  std::map<size_t, json> rows;
  for (auto& row : q["intervals"]) {
    int64_t start = 0;
    REQUIRE(callq::events::parse_iso8601(row["start"].get<std::string>(), &start));
    rows[static_cast<size_t>((start - from_ms) / 3'600'000)] = row;
  }
  // The script spans a little over an hour of virtual time, which starts
  // at the wall clock's time: two or three hourly intervals.
  CHECK(rows.size() >= 2);
  CHECK(rows.size() <= 3);
  for (size_t i = 0; i < hours; ++i) {
    INFO("interval " << i << " " << shown["labels"][i]);
    json row = rows.count(i) ? rows[i] : json{{"offered", 0}, {"answered", 0}, {"abandoned", 0}};
    CHECK(shown["calls"][0]["data"][i] == row["offered"]);
    CHECK(shown["calls"][1]["data"][i] == row["answered"]);
    CHECK(shown["calls"][2]["data"][i] == row["abandoned"]);
    CHECK(shown["sl"][1]["data"][i].get<double>() == Approx(90.0));
    if (!rows.count(i) || row["serviceLevel"].is_null())
      CHECK(shown["sl"][0]["data"][i].is_null());
    else
      CHECK(shown["sl"][0]["data"][i].get<double>() == Approx(row["serviceLevel"].get<double>() * 100));
    if (rows.count(i) && row["answered"] > 0)
      CHECK(shown["asa"][i].get<double>() == Approx(row["asaSeconds"].get<double>()));
    else
      CHECK(shown["asa"][i].is_null());
    if (rows.count(i) && row["completed"] > 0)
      CHECK(shown["aht"][i].get<double>() == Approx(row["ahtSeconds"].get<double>()));
    else
      CHECK(shown["aht"][i].is_null());
  }
  // The per-agent table, figure by figure.
  REQUIRE(shown["agents"].size() == report["agents"].size());
  for (size_t i = 0; i < report["agents"].size(); ++i)
    for (auto key : {"agentId", "answered", "talkSeconds", "missedOffers", "pausedSeconds"})
      CHECK(shown["agents"][i][key] == report["agents"][i][key]);
  CHECK(report["agents"][0]["answered"] == 3);
  CHECK(report["agents"][0]["talkSeconds"] == 480);
  CHECK(b.screenshot(screenshot_path("reports")));

  // What if nobody had been there: the panel asks the API for the same
  // period with 0 agents and draws its figures beside the actual ones.
  std::string period = "from=" + callq::events::format_iso8601(from_ms) +
                       "&to=" + callq::events::format_iso8601(to_ms) + "&interval=1h";
  auto sim = p.json_request("GET", "/api/reports/simulate?" + period + "&agents=support:0", viewer_token);
  REQUIRE(sim.status == 200);
  json what_if = json::parse(sim.body);
  REQUIRE(what_if["queues"].size() == 1);
  CHECK(what_if["staffing"] == "per-interval");
  CHECK(what_if["queues"][0]["total"]["actual"]["offered"] == 5);
  CHECK(what_if["queues"][0]["total"]["actual"]["answered"] == 3);
  CHECK(what_if["queues"][0]["total"]["simulated"]["offered"] == 5);
  CHECK(what_if["queues"][0]["total"]["simulated"]["answered"] == 0);
  REQUIRE(b.eval("(() => { document.querySelector('#what-if-queues input[data-queue=\"support\"]').value = '0';"
                 " document.querySelector('#what-if button[type=submit]').click(); return true; })()") == true);
  REQUIRE(b.wait("!!window.callqReports.whatIf && window.callqReports.charts.calls.data.datasets.length === 5",
                 10000) >= 0);
  json drawn = b.eval(R"((() => {
    const c = window.callqReports.charts;
    return {calls: c.calls.data.datasets.map((d) => ({label: d.label, data: d.data})),
            sl: c.serviceLevel.data.datasets.map((d) => d.label), asa: c.asa.data.datasets.length,
            state: document.getElementById('what-if-state').textContent};
  })())");
  INFO(drawn.dump());
  CHECK(drawn["calls"][3]["label"] == "answered (simulated)");
  CHECK(drawn["calls"][4]["label"] == "abandoned (simulated)");
  CHECK(drawn["sl"].back() == "support (simulated)");
  CHECK(drawn["asa"] == 2);
  CHECK(drawn["state"].get<std::string>().find("simulated 5 caller(s)") != std::string::npos);
  for (size_t i = 0; i < hours; ++i) {
    int64_t answered = 0, abandoned = 0;
    for (auto& row : what_if["queues"][0]["intervals"])
      if (row["start"] == callq::events::format_iso8601(from_ms + static_cast<int64_t>(i) * 3'600'000)) {
        answered = row["simulated"]["answered"].get<int64_t>();
        abandoned = row["simulated"]["abandoned"].get<int64_t>();
      }
    CHECK(drawn["calls"][3]["data"][i] == answered);
    CHECK(drawn["calls"][4]["data"][i] == abandoned);
  }
  CHECK(b.screenshot(screenshot_path("reports-what-if")));
  // Bad what-if requests are refused with the reason; the token is needed.
  for (auto* bad : {"&agents=support:x", "&agents=support:", "&agents=support:1&agents=support:2",
                    "&agents=nosuchqueue:3", "&seed=-1"}) {
    auto r = p.json_request("GET", "/api/reports/simulate?" + period + bad, viewer_token);
    INFO(bad << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(r.body.find("error") != std::string::npos);
  }
  CHECK(p.json_request("GET", "/api/reports/simulate?to=" + callq::events::format_iso8601(to_ms), viewer_token)
            .status == 400);
  CHECK(p.json_request("GET", "/api/reports/simulate?" + period, "not-a-token").status == 401);
  auto log = b.call({{"op", "log"}});
  INFO(log.dump());
  CHECK(log["errors"].empty());
  for (auto& url : log["requests"])
    CHECK((url.get<std::string>().rfind(base + "/", 0) == 0 || url.get<std::string>().rfind("data:", 0) == 0));
}
