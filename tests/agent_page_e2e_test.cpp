// Browser test of the agent page (README, "Agent page") in a real headless
// Chromium against the real `callq serve`: sign-in, Ready and its
// heartbeats, an offer on screen within a second with the caller's name
// and history, Accept and Reject through a fake Device, wrap-up with a
// disposition and notes, a break with a reason, the voice token's
// refresh, and signing out when the agent is removed.
//
// The fake Device is the documented test seam: the test defines
// `window.callqTestDevice` before the page's scripts run; the page code is
// the same as with Twilio's SDK.
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/browser.hpp"
#include "tests/callq_process.hpp"
#include "tests/fake_twilio.hpp"
#include "tests/temp_dir.hpp"

using namespace callq::testing;
using nlohmann::json;

namespace {

/// Twilio's Device and Call as far as the page uses them; the test drives
/// them through window.fakeDevice.
const char* fake_device = R"js(
(() => {
  class FakeCall {
    constructor(parameters) { this.parameters = parameters; this.handlers = {}; this.state = 'pending';
                              this.muted = false; this.digits = ''; }
    on(ev, f) { (this.handlers[ev] = this.handlers[ev] || []).push(f); }
    emit(ev, ...a) { (this.handlers[ev] || []).forEach((f) => f(...a)); }
    accept() { this.state = 'open'; this.emit('accept', this); }
    reject() { this.state = 'rejected'; this.emit('reject'); }
    disconnect() { this.state = 'closed'; this.emit('disconnect', this); }
    mute(on) { this.muted = on; }
    isMuted() { return this.muted; }
    sendDigits(d) { this.digits += d; }
  }
  window.callqTestDevice = class FakeDevice {
    constructor(token) { this.token = token; this.handlers = {}; this.updates = []; window.fakeDevice = this; }
    on(ev, f) { (this.handlers[ev] = this.handlers[ev] || []).push(f); }
    emit(ev, ...a) { (this.handlers[ev] || []).forEach((f) => f(...a)); }
    async register() { setTimeout(() => this.emit('registered'), 10); }
    updateToken(t) { this.updates.push(t); this.token = t; }
    destroy() { this.destroyed = true; }
    ring(parameters) { this.call = new FakeCall(parameters); this.emit('incoming', this.call); return this.call; }
  };
})();
)js";

std::map<std::string, std::string> call(const std::string& sid, const std::string& from = "+15551230001",
                                        std::map<std::string, std::string> extra = {}) {
  auto f = twilio_call(sid, from);
  for (auto& [k, v] : extra)
    f[k] = v;
  return f;
}

json agent_of(callq_process& p, const std::string& id) {
  json status = p.admin_get("/api/queue/status");
  for (auto& a : status["agents"])
    if (a["agentId"] == id)
      return a;
  return nullptr;
}

/// Whether the element `id` is shown (not hidden by attribute or style).
std::string shown(const std::string& id) {
  return "(() => { const e = document.getElementById('" + id +
         "'); return !!e && e.getClientRects().length > 0; })()";
}

std::string text_of(const std::string& id) {
  return "document.getElementById('" + id + "').textContent";
}

std::string screenshot_path(const std::string& name) {
  std::filesystem::create_directories(CALLQ_SCREENSHOTS);
  return std::string(CALLQ_SCREENSHOTS) + "/" + name + ".png";
}

}  // namespace

TEST_CASE("browser: an agent signs in, goes ready, takes an offer through the softphone, wraps up, takes a break") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(),
                  {{"AGENT_HEARTBEAT_INTERVAL", "1s"},
                   {"TWILIO_API_KEY_SID", "SKe2e"},
                   {"TWILIO_API_KEY_SECRET", "e2e-key-secret"},
                   {"TWILIO_TWIML_APP_SID", "APe2e"},
                   {"AGENT_VOICE_TOKEN_TTL", "5s"}});
  REQUIRE(p.ready());
  std::string base = "http://127.0.0.1:" + std::to_string(p.port());
  REQUIRE(p.json_request("PUT", "/api/queues/support", admin_token,
                         {{"dispositions", {"resolved", "follow-up"}},
                          {"screenPopUrl", "https://crm.example.com/?phone={from}"}})
              .status == 201);
  REQUIRE(p.json_request("PUT", "/api/callers/+15551230001", admin_token, {{"name", "Ada Lovelace"}, {"priority", 0}})
              .status == 200);
  std::string alice = create_agent(p, "alice");
  // An earlier call of Ada's, abandoned: her history on the next offer.
  REQUIRE(p.webhook("voice", "", call("CA0")).status == 200);
  REQUIRE(p.webhook("call-status", "", call("CA0", "+15551230001", {{"CallStatus", "completed"}})).status == 200);

  browser b;
  INFO(b.why());
  REQUIRE(b.ready());
  REQUIRE(b.call({{"op", "preload"}, {"js", fake_device}})["ok"] == true);

  // A refused token: the sign-in form says so.
  REQUIRE(b.open(base + "/agent#token=not-a-token"));
  CHECK(b.wait(shown("sign-in") + " && " + text_of("sign-in-message") +
                   ".includes('not accepted')", 3000) >= 0);
  // Alice's token: signed in, and the token left the address bar.
  REQUIRE(b.open(base + "/agent#token=" + alice));
  REQUIRE(b.wait(shown("desk") + "", 3000) >= 0);
  CHECK(b.eval(shown("sign-in")) == false);
  CHECK(b.eval("location.hash") == "");
  CHECK(b.eval("localStorage.getItem('callq.agent-token')") == alice);
  CHECK(b.wait(text_of("state") + " === 'offline'", 2000) >= 0);
  CHECK(b.wait(text_of("phone-status") + ".includes('Phone ready (client-alice)')", 3000) >= 0);

  // Ready: heartbeats with the softphone's registration; they keep coming.
  b.eval("document.getElementById('ready').click()");
  CHECK(b.wait(text_of("state") + " === 'available'", 3000) >= 0);
  json a = agent_of(p, "alice");
  CHECK(a["state"] == "available");
  CHECK(a["deviceRegistered"] == true);
  p.advance(1'500);  // most of AGENT_HEARTBEAT_TIMEOUT (2 s) in virtual time
  // The page's heartbeats (its worker's timer runs in real time) go on at
  // the new virtual time: the second one answered from now on was sent
  // after the advance (the first may have been on its way), and the age
  // goes back to 0.
  const std::string sent = "Number(document.getElementById('heartbeat-status').dataset.sent || 0)";
  auto counted = b.eval(sent);
  REQUIRE(counted.is_number());
  long before = counted.get<long>();
  CHECK(b.wait(sent + " >= " + std::to_string(before + 2), 5000) >= 0);
  CHECK(agent_of(p, "alice")["lastHeartbeatAgeSeconds"] == 0);
  p.advance(1'500);  // past the timeout counted from the Ready heartbeat
  CHECK(agent_of(p, "alice")["state"] == "available");  // a later heartbeat kept it fresh

  // An offer: on screen within a second, with the caller's name and history.
  REQUIRE(p.webhook("voice", "", call("CA1")).status == 200);
  std::string offer = offer_in(tw.wait_request(0));
  long ms = b.wait(text_of("offer-name") + " === 'Ada Lovelace' && " + shown("offer"), 1000);
  INFO("the offer appeared after " << ms << " ms");
  CHECK(ms >= 0);
  CHECK(b.eval(text_of("offer-from")) == "+15551230001");
  CHECK(b.eval(text_of("offer-queue")) == "support");
  CHECK(b.eval("document.querySelectorAll('#history tbody tr').length") == 1);
  CHECK(b.eval("document.querySelector('#history tbody tr td:nth-child(4)').textContent") == "abandoned");
  CHECK(b.eval("document.getElementById('offer-pop').href") == "https://crm.example.com/?phone=%2B15551230001");
  CHECK(b.eval("document.getElementById('offer-pop').target") == "_blank");
  CHECK(b.screenshot(screenshot_path("agent-page-offer")));

  // The softphone rings: Accept.
  b.eval("fakeDevice.ring({From: '+15551230001'}); true");
  CHECK(b.wait(shown("phone-incoming") + "", 1000) >= 0);
  b.eval("document.getElementById('accept').click()");
  CHECK(b.eval("fakeDevice.call.state") == "open");
  CHECK(b.wait(shown("phone-call") + "", 1000) >= 0);
  b.eval("document.getElementById('mute').click()");
  CHECK(b.eval("fakeDevice.call.isMuted()") == true);
  REQUIRE(p.webhook("connect-agent", "?offer=" + offer, call("CA1")).status == 200);
  REQUIRE(p.webhook("agent-leg-status", "?offer=" + offer,
                    call("CAleg1", "client:alice", {{"CallStatus", "in-progress"}}))
              .status == 200);
  CHECK(b.wait(text_of("state") + " === 'on-call'", 2000) >= 0);
  b.eval("document.getElementById('hang-up').click()");
  CHECK(b.eval("fakeDevice.call.state") == "closed");
  REQUIRE(p.webhook("dial-result", "?offer=" + offer,
                    call("CA1", "+15551230001", {{"DialCallStatus", "completed"}, {"DialCallDuration", "30"}}))
              .status == 200);

  // Wrap-up: a countdown, the queue's dispositions, notes; "Save and ready".
  CHECK(b.wait(shown("wrap-up") + "", 2000) >= 0);
  CHECK(b.eval("[...document.querySelectorAll('#disposition option')].map((o) => o.value)") ==
        json({"resolved", "follow-up"}));
  CHECK(b.eval(text_of("wrap-left") + ".endsWith('left')") == true);
  CHECK(b.screenshot(screenshot_path("agent-page-wrap-up")));
  const std::string note = "<script>window.xss = 1</script><img src=x onerror=\"window.xss = 2\">";
  b.eval("document.getElementById('disposition').value = 'follow-up';"
         "document.getElementById('notes').value = " + json(note).dump() + ";"
         "document.getElementById('wrap-ready').click(); true");
  CHECK(b.wait(text_of("state") + " === 'available' && !" + shown("wrap-up"), 3000) >= 0);
  auto exported = p.json_request("GET", "/api/audit/export?format=jsonl", admin_token);
  CHECK(has(exported.body, "\"disposition\":\"follow-up\""));
  CHECK(has(exported.body, json(note).dump()));  // the notes as written

  // The next offer from Ada: her history shows the disposition, as text.
  REQUIRE(p.webhook("voice", "", call("CA2")).status == 200);
  CHECK(b.wait("document.querySelectorAll('#history tbody tr').length === 2", 2000) >= 0);
  CHECK(b.eval("document.querySelector('#history tbody tr td:nth-child(5)').textContent") == "follow-up");
  CHECK(b.eval("window.xss === undefined") == true);
  // Reject on the softphone.
  b.eval("fakeDevice.ring({From: '+15551230001'}); true");
  CHECK(b.wait(shown("phone-incoming") + "", 1000) >= 0);
  b.eval("document.getElementById('reject').click()");
  CHECK(b.eval("fakeDevice.call.state") == "rejected");
  CHECK(b.wait("!" + shown("phone-incoming"), 1000) >= 0);
  // Ada hangs up: the offer leaves the screen.
  REQUIRE(p.webhook("call-status", "", call("CA2", "+15551230001", {{"CallStatus", "completed"}})).status == 200);
  CHECK(b.wait("!" + shown("offer"), 2000) >= 0);

  // The voice token is renewed before it expires (5 s: after 4 s).
  CHECK(b.wait("window.fakeDevice.updates.length >= 1", 8000) >= 0);
  CHECK(b.eval("window.fakeDevice.updates[0].split('.').length") == 3);

  // A break with a reason: recorded, and seen in the report.
  b.eval("document.getElementById('reason').value = 'training'; document.getElementById('break').click(); true");
  CHECK(b.wait(text_of("state") + " === 'break' && " + text_of("pause-reason") + " === '(training)'", 3000) >= 0);
  p.advance(60'000);
  json report = p.admin_get("/api/reports/queues?interval=1d");
  bool seen = false;
  for (auto& r : report["agents"])
    if (r["agentId"] == "alice")
      seen = r["pausedSecondsByReason"].value("training", 0) >= 60;
  CHECK(seen);
  CHECK(b.screenshot(screenshot_path("agent-page")));

  // Removed: the page signs out and forgets the token.
  REQUIRE(p.json_request("DELETE", "/api/agents/alice", admin_token).status == 200);
  CHECK(b.wait(shown("sign-in") + "", 3000) >= 0);
  CHECK(b.eval("localStorage.getItem('callq.agent-token')").is_null());

  // Nothing but callq's own files was loaded, and nothing failed.
  auto log = b.call({{"op", "log"}});
  INFO(log.dump());
  for (auto& url : log["requests"])
    CHECK((url.get<std::string>().rfind(base + "/", 0) == 0 || url.get<std::string>().rfind("data:", 0) == 0));
  // The SDK's bundle loaded under the page's policy, and nothing failed
  // but the refused token's 401 at the start.
  CHECK(b.eval("typeof window.Twilio === 'object' || window.callqVoiceSdkMissing === true") == true);
  for (auto& e : log["errors"]) {
    INFO(e.dump());
    CHECK(has(e.get<std::string>(), "401"));
  }
}

TEST_CASE("browser: with the softphone off, the page says so and heartbeats as a phone-number agent") {
  fake_twilio tw;
  temp_dir dir;
  callq_process p(dir.path() + "/data", tw.base_url(), {{"AGENT_HEARTBEAT_INTERVAL", "1s"}});
  REQUIRE(p.ready());
  std::string base = "http://127.0.0.1:" + std::to_string(p.port());
  std::string alice = create_agent(p, "alice");
  browser b;
  INFO(b.why());
  REQUIRE(b.ready());
  // A narrow screen: a phone. Nothing is wider than the screen.
  REQUIRE(b.call({{"op", "viewport"}, {"width", 390}, {"height", 844}})["ok"] == true);
  REQUIRE(b.open(base + "/agent#token=" + alice));
  REQUIRE(b.wait(shown("desk") + "", 3000) >= 0);
  CHECK(b.wait(text_of("phone-status") + ".includes('softphone is off')", 3000) >= 0);
  b.eval("document.getElementById('ready').click()");
  CHECK(b.wait(text_of("state") + " === 'available'", 3000) >= 0);
  json a = agent_of(p, "alice");
  CHECK(a["deviceRegistered"] == true);
  CHECK(b.eval("document.documentElement.scrollWidth <= 390") == true);
  CHECK(b.screenshot(screenshot_path("agent-page-phone")));
}
