#include "actors/call/call_logic.hpp"

#include <map>
#include <set>

#include <catch2/catch.hpp>

#include "actors/feature_flags.hpp"
#include "tests/event_counts.hpp"

using namespace callq;
using namespace callq::events;
using kind = voice_reply::kind;

namespace {

/// One call's decisions in virtual time, with a fixed line position.
struct call_fixture {
  policy rules;
  call_state c;
  int64_t now = 1'795'608'000'000;
  int64_t position = 1;
  int callbacks = 0;
  call_decision last;
  /// Queues with rules (admission); empty: every queue takes every caller.
  std::map<std::string, queue_facts> queues;
  /// Callers' last agents, and the agents a call may wait for.
  std::map<std::string, std::string> last_agents;
  std::set<std::string> available;
  /// The directory's entry for the number in question.
  caller_entry caller;

  reply run(const call_command& x) {
    call_context ctx;
    ctx.rules = &rules;
    ctx.now_ms = now;
    ctx.position_of = [this](const std::string&, const line_key&) { return position; };
    ctx.order = 7;
    ctx.caller = caller;
    ctx.next_callback_id = [this] { return "CB" + std::to_string(++callbacks); };
    if (!queues.empty()) {
      ctx.queue_facts_of = [this](const std::string& q) { return queues[q]; };
      ctx.config_of = [this](const std::string& q) { return queues[q].config; };
    }
    ctx.last_agent_of = [this](const std::string& number) { return last_agents[number]; };
    ctx.agent_can_take = [this](const std::string&, const std::string& agent,
                                const std::map<std::string, int64_t>&) {
      return available.count(agent) > 0;
    };
    last = decide(c, x, ctx);
    history.insert(history.end(), last.events.begin(), last.events.end());
    return last.answer;
  }
  /// Every event decided so far, in order.
  std::vector<event> history;
  /// The digest of the state that replaying `history` gives (equal to
  /// digest_text(c) when the events say everything).
  std::string replayed_digest() const {
    call_state replayed;
    for (auto& e : history)
      apply(replayed, e);
    return digest_text(replayed);
  }
  /// When the call next needs a tick, under its queue's configuration.
  int64_t deadline() {
    auto q = queues.find(c.queue);
    return next_deadline(c, rules, q == queues.end() ? queue_config{} : q->second.config, now);
  }
  template <class T> int count() const { return callq::testing::count_of<T>(last.events); }
};

}  // namespace

TEST_CASE("call: arrival records and enqueues, and replaying its events gives the same state") {
  call_fixture f;
  f.position = 3;
  auto r = f.run(cmd::incoming_call{"CA1", "+15551234567", "+15559999999", "support", "", 5});
  REQUIRE(r.is_voice());
  CHECK(r.voice().what == kind::enqueue);
  CHECK(r.voice().greet);
  REQUIRE(f.last.events.size() == 2);
  CHECK(std::get<call_arrived>(f.last.events[0].body).order == 7);
  CHECK(std::get<call_enqueued>(f.last.events[1].body).position == 3);
  CHECK(f.c.phase == call_phase::queued);
  CHECK(f.c.priority == 5);
  CHECK(f.c.version == 2);
  CHECK(f.replayed_digest() == digest_text(f.c));
  // A retry appends nothing and answers the same.
  auto again = f.run(cmd::incoming_call{"CA1", "+15551234567", "+15559999999", "support", "", 5});
  CHECK(f.last.events.empty());
  CHECK(again.voice() == r.voice());
}

TEST_CASE("call: every answer to the caller says whether hold music plays, as its flag says") {
  for (bool music : {true, false}) {
    call_fixture f;
    f.rules.feature_queue_hold_music = music;
    auto r = f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
    CHECK(r.voice().what == kind::enqueue);
    CHECK(r.voice().music == music);
    r = f.run(cmd::hold_poll{"CA1"});
    CHECK(r.voice().music == music);
  }
}

TEST_CASE("call: a call that only waits holds no routing part: its first offer makes one and copies keep it") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  REQUIRE(f.c.phase == call_phase::queued);
  CHECK_FALSE(f.c.has_routing());
  CHECK(f.c.routing().offer_id.empty());  // read as empty, not made
  CHECK_FALSE(f.c.has_routing());
  call_state before = f.c;
  f.run(cmd::take_offer{"OF1", "alice", "client-alice", "support", false});
  REQUIRE(f.c.has_routing());
  CHECK(f.c.routing().offer_id == "OF1");
  CHECK(f.c.routing().agent_id == "alice");
  CHECK_FALSE(before.has_routing());
  call_state copy = f.c;  // a copy has its own part
  copy.edit_routing().offer_id = "OF9";
  CHECK(f.c.routing().offer_id == "OF1");
  CHECK(f.replayed_digest() == digest_text(f.c));
}

TEST_CASE("call: taking an offer writes it and asks for the redirect, a second is refused") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  auto r = f.run(cmd::take_offer{"OF1", "alice", "client-alice", "support", false});
  REQUIRE(std::holds_alternative<offer_answer>(r.body));
  CHECK(std::get<offer_answer>(r.body).taken);
  CHECK(f.c.phase == call_phase::offered);
  REQUIRE(f.last.jobs.size() == 1);
  CHECK(f.last.jobs[0].what == rest_job::kind::redirect_call);
  CHECK(f.last.jobs[0].offer_id == "OF1");
  CHECK_FALSE(view_of(f.c, f.rules).dispatchable);
  r = f.run(cmd::take_offer{"OF2", "bob", "client-bob", "support", false});
  CHECK(r.result == outcome::conflict);
  CHECK(f.last.events.empty());
  // connect-agent dials the agent who took it.
  r = f.run(cmd::connect_agent{"OF1"});
  CHECK(r.voice().what == kind::dial_agent);
  CHECK(r.voice().identity == "client-alice");
}

TEST_CASE("call: a no-answer fails the offer, tells the agent it missed, and the call waits again") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  f.run(cmd::take_offer{"OF1", "alice", "client-alice", "support", false});
  f.now += 17'250;  // it rang this long (queue_log's RINGNOANSWER)
  auto r = f.run(cmd::dial_result{"OF1", "no-answer", "in-progress", 0});
  CHECK(r.voice().what == kind::enqueue);
  REQUIRE(f.count<call_offer_failed>() == 1);
  CHECK(std::get<call_offer_failed>(f.last.events.at(0).body).ring_ms == 17'250);
  REQUIRE(f.last.notices.size() == 1);
  CHECK(f.last.notices[0].what == offer_notice::kind::ended);
  CHECK(f.last.notices[0].missed);
  CHECK(f.c.routing().tried == std::vector<std::string>{"alice"});
  CHECK(view_of(f.c, f.rules).dispatchable);
  // A caller hanging up while ringing does not count against the agent.
  f.run(cmd::take_offer{"OF2", "bob", "client-bob", "support", false});
  f.run(cmd::queue_left{"CA1", "hangup"});
  REQUIRE(f.last.notices.size() == 1);
  CHECK_FALSE(f.last.notices[0].missed);
  CHECK(f.c.phase == call_phase::abandoned);
}

TEST_CASE("call: the view of a call that only waits carries no routing part: a failed offer gives it one") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  call_view waiting = view_of(f.c, f.rules);
  CHECK(waiting.dispatchable);
  CHECK_FALSE(waiting.has_routing());
  CHECK(waiting.routing().tried.empty());  // read as empty, not made
  f.run(cmd::take_offer{"OF1", "alice", "client-alice", "support", false});
  CHECK_FALSE(view_of(f.c, f.rules).has_routing());  // ringing: nothing narrows it yet
  f.run(cmd::dial_result{"OF1", "no-answer", "in-progress", 0});
  call_view again = view_of(f.c, f.rules);
  REQUIRE(again.has_routing());
  CHECK(again.routing().tried == std::vector<std::string>{"alice"});
  CHECK(again.routing().failed_in_row == 1);
  call_view copy = again;  // a copy has its own part
  copy.edit_routing().tried.clear();
  CHECK(again.routing().tried == std::vector<std::string>{"alice"});
}

TEST_CASE("call: an offer nobody reports on times out at OFFER_TIMEOUT + 10 s") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  f.run(cmd::take_offer{"OF1", "alice", "client-alice", "support", false});
  CHECK(f.deadline() == f.now + 30'000);
  f.now += 29'999;
  f.run(cmd::tick{});
  CHECK(f.c.phase == call_phase::offered);
  f.now += 1;
  f.run(cmd::tick{});
  CHECK(f.c.phase == call_phase::queued);
  REQUIRE(f.count<call_offer_failed>() == 1);
  CHECK(std::get<call_offer_failed>(f.last.events[0].body).reason == "timeout");
}

TEST_CASE("call: a rest after failed offers ends once: the overflow after it is the next deadline") {
  call_fixture f;
  f.queues["support"].config.overflow_after_seconds = 600;
  f.queues["support"].config.overflow_queue = "sales";
  f.queues["sales"] = queue_facts{};
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  int64_t enqueued = f.now;
  for (int k = 1; k <= f.rules.max_offer_attempts; ++k) {
    std::string offer = "OF" + std::to_string(k);
    f.run(cmd::take_offer{offer, "alice", "client-alice", "support", false});
    f.now += 1'000;
    f.run(cmd::dial_result{offer, "no-answer", "in-progress", 0});
  }
  // Resting: the caller hears the callback offer before anyone is tried again.
  CHECK(f.deadline() == f.now + f.rules.announce_interval_ms);
  f.now += f.rules.announce_interval_ms;
  f.run(cmd::tick{});
  CHECK(view_of(f.c, f.rules).routing().rest_until_ms <= f.now);
  // The rest is over: its end is no deadline any more (a timer set to it
  // again would fire at once, for ever, and hide the overflow).
  CHECK(f.deadline() == enqueued + 600'000);
}

TEST_CASE("call: the agent side rescinding fails the offer without telling the agent back") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  f.run(cmd::take_offer{"OF1", "alice", "client-alice", "support", false});
  f.run(cmd::rescind_offer{"OF1", "agent-removed"});
  CHECK(f.c.phase == call_phase::queued);
  CHECK(f.last.notices.empty());
  f.run(cmd::rescind_offer{"OF1", "agent-removed"});  // stale: nothing
  CHECK(f.last.events.empty());
  // Ring-all: the others the offer rang are told; the one rescinding is not.
  call_fixture g;
  g.run(cmd::incoming_call{"CA2", "+15551234567", "+1", "support", "", std::nullopt});
  cmd::take_offer offer{"OF2", "alice", "client-alice", "support", false};
  offer.also = {{"bob", "client-bob"}};
  g.run(offer);
  g.run(cmd::rescind_offer{"OF2", "agent-removed", "alice"});
  CHECK(g.c.phase == call_phase::queued);
  REQUIRE(g.last.notices.size() == 1);
  CHECK(g.last.notices[0].agent_id == "bob");
  CHECK_FALSE(g.last.notices[0].missed);
}

TEST_CASE("call: connected, then completed: the agent hears answered, then finished") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  f.run(cmd::take_offer{"OF1", "alice", "client-alice", "support", false});
  f.now += 5000;
  f.run(cmd::agent_leg_status{"OF1", "in-progress"});
  REQUIRE(f.last.notices.size() == 1);
  CHECK(f.last.notices[0].what == offer_notice::kind::answered);
  f.now += 60'000;
  auto r = f.run(cmd::dial_result{"OF1", "completed", "in-progress", 60});
  CHECK(r.voice().what == kind::hangup);
  CHECK(f.c.phase == call_phase::completed);
  REQUIRE(f.last.notices.size() == 1);
  CHECK(f.last.notices[0].what == offer_notice::kind::finished);
  CHECK(f.deadline() == 0);
}

// ------------------------------------------------------ the queue's door --

namespace {

cmd::incoming_call arrival(const std::string& queue, const std::string& from = "+15551234567") {
  return cmd::incoming_call{"CA9", from, "+15559999999", queue, "", std::nullopt};
}

/// Mondays to Fridays 08:00-17:00 in Berlin.
opening_hours berlin_office() {
  opening_hours h;
  h.timezone = "Europe/Berlin";
  for (int d = 0; d < 5; ++d)
    h.weekly[d] = {{8 * 60, 17 * 60}};
  h.closed_message = "We are closed. Our hours are 8 to 5.";
  return h;
}

}  // namespace

TEST_CASE("call: a full queue refuses the caller as whenFull says") {
  call_fixture f;
  queue_facts full;
  full.config.max_waiting = 2;
  full.waiting = 2;
  full.staffed = 1;

  SECTION("hangup: the words, then hang up; the call is over") {
    full.config.when_full = full_action::hangup;
    f.queues["sales"] = full;
    auto r = f.run(arrival("sales"));
    CHECK(r.voice().what == kind::refused);
    CHECK_FALSE(r.voice().offer_callback);
    REQUIRE(f.count<call_refused>() == 1);
    CHECK(f.count<call_enqueued>() == 0);
    auto& e = std::get<call_refused>(f.last.events[1].body);
    CHECK(e.reason == "full");
    CHECK(e.action == "hangup");
    CHECK(e.position == 3);
    CHECK(f.c.phase == call_phase::refused);
    CHECK(is_finished(f.c.phase));
  }
  SECTION("overflow: the call joins the overflow queue, keeping its arrival") {
    full.config.when_full = full_action::overflow;
    full.config.overflow_queue = "backup";
    f.queues["sales"] = full;
    f.queues["backup"] = queue_facts{};
    auto r = f.run(arrival("sales"));
    CHECK(r.voice().what == kind::enqueue);
    CHECK(r.voice().queue == "backup");
    REQUIRE(f.last.events.size() == 3);
    CHECK(std::get<call_refused>(f.last.events[1].body).action == "overflow");
    CHECK(std::get<call_refused>(f.last.events[1].body).overflow_queue == "backup");
    CHECK(std::get<call_enqueued>(f.last.events[2].body).queue == "backup");
    CHECK(f.c.phase == call_phase::queued);
    CHECK(f.c.queue == "backup");
  }
  SECTION("overflow into a queue that is full too: that queue's rule decides") {
    full.config.when_full = full_action::overflow;
    full.config.overflow_queue = "backup";
    f.queues["sales"] = full;
    queue_facts backup = full;
    backup.config.when_full = full_action::hangup;
    backup.config.overflow_queue = "";
    f.queues["backup"] = backup;
    auto r = f.run(arrival("sales"));
    CHECK(r.voice().what == kind::refused);
    CHECK(f.count<call_refused>() == 2);
    CHECK(f.c.queue == "backup");
    CHECK(f.c.phase == call_phase::refused);
  }
  SECTION("callback: pressing 1 books a callback that joins the line now") {
    full.config.when_full = full_action::callback;
    f.queues["sales"] = full;
    auto r = f.run(arrival("sales"));
    CHECK(r.voice().what == kind::refused);
    CHECK(r.voice().offer_callback);
    CHECK(f.c.phase == call_phase::deciding_callback);
    CHECK_FALSE(is_finished(f.c.phase));
    f.now += 6'000;
    f.position = 3;
    auto booked = f.run(cmd::callback_response{"CA9", "1"});
    CHECK(booked.voice().what == kind::callback_booked);
    CHECK_FALSE(booked.voice().closed);
    REQUIRE(f.count<callback_requested>() == 1);
    auto& e = std::get<callback_requested>(f.last.events[0].body);
    CHECK(e.due_ms == 0);
    CHECK(e.position == 3);
    CHECK(f.c.phase == call_phase::callback_waiting);
    CHECK(f.c.enqueued_ms == f.now);  // its place in the line starts now
    CHECK(f.c.in_line());
  }
  SECTION("callback offered to a caller who cannot be called back: hang up instead") {
    full.config.when_full = full_action::callback;
    f.queues["sales"] = full;
    auto r = f.run(arrival("sales", "anonymous"));
    CHECK_FALSE(r.voice().offer_callback);
    CHECK(std::get<call_refused>(f.last.events[1].body).action == "hangup");
    CHECK(f.c.phase == call_phase::refused);
  }
  SECTION("a refused caller who presses another key, hangs up or waits is turned away") {
    full.config.when_full = full_action::callback;
    f.queues["sales"] = full;
    f.run(arrival("sales"));
    SECTION("another key") {
      CHECK(f.run(cmd::callback_response{"CA9", "2"}).voice().what == kind::goodbye);
      CHECK(std::get<call_turned_away>(f.last.events.back().body).reason == "declined");
    }
    SECTION("hangup") {
      f.run(cmd::call_status{"CA9", "completed"});
      CHECK(std::get<call_turned_away>(f.last.events.back().body).reason == "hangup");
    }
    SECTION("no key within a minute") {
      CHECK(f.deadline() == f.c.arrived_ms + 60'000);
      f.now += 60'000;
      f.run(cmd::tick{});
      CHECK(std::get<call_turned_away>(f.last.events.back().body).reason == "timeout");
    }
    CHECK(f.c.phase == call_phase::refused);
  }
}

TEST_CASE("call: joinWhenNoAgents false refuses a caller when no member is staffed") {
  call_fixture f;
  queue_facts q;
  q.config.join_when_no_agents = false;
  q.config.when_full = full_action::hangup;
  f.queues["support"] = q;
  f.run(arrival("support"));
  CHECK(std::get<call_refused>(f.last.events[1].body).reason == "no-agents");
  CHECK(f.c.phase == call_phase::refused);
  // With one staffed member the next caller is queued.
  call_fixture g;
  q.staffed = 1;
  g.queues["support"] = q;
  g.run(arrival("support"));
  CHECK(g.c.phase == call_phase::queued);
}

TEST_CASE("call: outside opening hours the closed message plays, and a callback waits for the opening") {
  call_fixture f;
  queue_facts q;
  q.config.hours = berlin_office();
  f.queues["support"] = q;
  // Thursday 26 November 2026, 18:30 in Berlin (17:30 UTC): closed.
  f.now = 1'795'714'200'000;
  auto r = f.run(arrival("support"));
  CHECK(r.voice().what == kind::refused);
  CHECK(r.voice().closed);
  CHECK(r.voice().message == "We are closed. Our hours are 8 to 5.");
  CHECK(r.voice().offer_callback);
  auto& refusal = std::get<call_refused>(f.last.events[1].body);
  CHECK(refusal.reason == "closed");
  CHECK(refusal.action == "callback");

  f.now += 5'000;
  auto booked = f.run(cmd::callback_response{"CA9", "1"});
  CHECK(booked.voice().what == kind::callback_booked);
  CHECK(booked.voice().closed);
  // Friday 08:00 in Berlin is 07:00 UTC.
  const int64_t opening = 1'795'762'800'000;
  CHECK(std::get<callback_requested>(f.last.events[0].body).due_ms == opening);
  CHECK(f.c.phase == call_phase::callback_scheduled);
  CHECK_FALSE(f.c.in_line());
  CHECK(f.deadline() == opening);

  // A tick before the opening changes nothing; at the opening the callback
  // joins the line, its place starting then.
  f.now = opening - 1;
  f.run(cmd::tick{});
  CHECK(f.c.phase == call_phase::callback_scheduled);
  f.now = opening;
  f.run(cmd::tick{});
  REQUIRE(f.count<callback_due>() == 1);
  CHECK(f.c.phase == call_phase::callback_waiting);
  CHECK(f.c.enqueued_ms == opening);
  CHECK(f.c.dispatchable());
}

TEST_CASE("call: a closed queue whose closedAction is message only plays the message") {
  call_fixture f;
  queue_facts q;
  q.config.hours = berlin_office();
  q.config.hours->action = closed_action::message;
  f.queues["support"] = q;
  f.now = 1'795'714'200'000;  // Thursday 18:30 in Berlin
  auto r = f.run(arrival("support"));
  CHECK_FALSE(r.voice().offer_callback);
  CHECK(std::get<call_refused>(f.last.events[1].body).action == "message");
  CHECK(f.c.phase == call_phase::refused);
  // Inside the hours the same queue takes the call.
  call_fixture g;
  g.queues["support"] = q;
  g.now = 1'795'680'000'000;  // Thursday 09:00 in Berlin (08:00 UTC)
  g.run(arrival("support"));
  CHECK(g.c.phase == call_phase::queued);
}

TEST_CASE("call: a closed queue with no opening ahead offers no callback") {
  call_fixture f;
  queue_facts q;
  q.config.hours = berlin_office();
  q.config.hours->weekly = {};  // never open
  f.queues["support"] = q;
  f.now = 1'795'714'200'000;  // Thursday 18:30 in Berlin
  auto r = f.run(arrival("support"));
  CHECK(r.voice().closed);
  CHECK_FALSE(r.voice().offer_callback);
  CHECK(std::get<call_refused>(f.last.events.at(1).body).action == "message");
}

TEST_CASE("call: a late Twilio retry of a finished call is told to hang up, and a retry counts as contact") {
  call_fixture f;
  auto first = arrival("support");
  int64_t start = f.now;
  f.run(first);
  // A retry shortly before the call would count as orphaned keeps it.
  f.now = start + f.rules.orphan_after_ms - 1'000;
  CHECK(f.run(first).voice().what == kind::enqueue);
  f.now = start + f.rules.orphan_after_ms + 1;
  f.run(cmd::queue_cleanup{});
  CHECK(f.c.phase == call_phase::queued);
  f.run(cmd::queue_left{"CA9", "hangup"});
  REQUIRE(f.c.phase == call_phase::abandoned);
  f.now += 60'000;
  auto late = f.run(first);
  CHECK(late.voice().what == kind::hangup);
  CHECK(f.last.events.empty());
}

TEST_CASE("call: an abandoned call records where it stood on arrival and when it left") {
  call_fixture f;
  f.position = 4;
  int64_t start = f.now;
  f.run(arrival("support"));
  f.position = 2;
  f.now = start + 30'000;
  f.run(cmd::queue_left{"CA9", "hangup"});
  REQUIRE(f.count<call_abandoned>() == 1);
  auto a = std::get<call_abandoned>(f.last.events.at(0).body);
  CHECK(a.position == 2);
  CHECK(a.orig_position == 4);
  CHECK(a.wait_seconds == 30);
}

TEST_CASE("call: the directory's language comes before lang=, its priority after the webhook's") {
  call_fixture f;
  f.caller.priority = 7;
  f.caller.language = "es-ES";
  cmd::incoming_call x = arrival("support");
  x.language = "fr-FR";
  f.run(x);
  CHECK(f.c.priority == 7);
  CHECK(f.c.language == "es-ES");
  call_fixture g;
  g.caller.priority = 7;
  x.priority = 2;
  g.run(x);
  CHECK(g.c.priority == 2);
  CHECK(g.c.language == "fr-FR");  // no language in the directory
}

TEST_CASE("call: a flag by share follows the caller's number, not the call") {
  const std::string number = "+15551234567";
  const bool on = traffic_bucket(number) < 50;
  // Two calls whose own ids fall on either side of the share.
  std::string below, above;
  for (int i = 0; below.empty() || above.empty(); ++i) {
    std::string sid = "CA" + std::to_string(i);
    (traffic_bucket(sid) < 50 ? below : above) = sid;
  }
  for (const std::string& sid : {below, above}) {
    call_fixture f;
    f.rules.feature_shares["FEATURE_QUEUE_HOLD_MUSIC"] = 50;
    auto r = f.run(cmd::incoming_call{sid, number, "+15559999999", "support", "", std::nullopt});
    CHECK(r.voice().music == on);
  }
}

TEST_CASE("call: an anonymous caller waits for nobody's last agent") {
  call_fixture f;
  f.queues["support"].config.prefer_last_agent_seconds = 60;
  f.last_agents["anonymous"] = "alice";
  f.available = {"alice"};
  f.run(arrival("support", "anonymous"));
  CHECK(f.c.phase == call_phase::queued);
  CHECK(f.count<call_agent_preferred>() == 0);
  CHECK(f.c.routing().preferred_agent.empty());
}

TEST_CASE("call: failed offers escalate once at ESCALATE_AFTER_FAILED_OFFERS and offer a callback at MAX_OFFER_ATTEMPTS") {
  call_fixture f;
  REQUIRE(f.rules.escalate_after_failed_offers == 2);
  REQUIRE(f.rules.max_offer_attempts == 3);
  f.run(arrival("support"));
  int escalated = 0;
  for (int i = 1; i <= 4; ++i) {
    std::string offer = "OF" + std::to_string(i);
    f.run(cmd::take_offer{offer, "alice", "client-alice", "support", false});
    f.run(cmd::dial_result{offer, "no-answer", "in-progress", 0});
    escalated += f.count<call_escalated>();
    CHECK(escalated == (i >= 2 ? 1 : 0));
    CHECK(f.count<callback_offered>() == (i == 3 ? 1 : 0));
  }
}

TEST_CASE("call: the callback offer at MAX_QUEUE_WAIT and the callback's escalation at CALLBACK_SLA come to the millisecond, once") {
  call_fixture f;
  int64_t start = f.now;
  f.run(arrival("support"));
  f.now = start + f.rules.max_queue_wait_ms - 1;
  f.run(cmd::tick{});
  CHECK(f.count<callback_offered>() == 0);
  f.now += 1;
  f.run(cmd::tick{});
  REQUIRE(f.count<callback_offered>() == 1);
  CHECK(std::get<callback_offered>(f.last.events.at(0).body).reason == "max-wait");
  f.run(cmd::callback_response{"CA9", "1"});
  REQUIRE(f.c.phase == call_phase::callback_waiting);
  int64_t requested = f.now;
  f.now = requested + f.rules.callback_sla_ms - 1;
  f.run(cmd::tick{});
  CHECK(f.count<callback_escalated>() == 0);
  f.now += 1;
  f.run(cmd::tick{});
  CHECK(f.count<callback_escalated>() == 1);
  f.now += 60'000;
  f.run(cmd::tick{});
  CHECK(f.count<callback_escalated>() == 0);
}

TEST_CASE("call: an offer matched under a requirement the call no longer has is refused") {
  call_fixture f;
  f.rules.feature_callback_request_system = false;
  f.queues["support"].config.skill_steps = {{0, {{"fr", 1}}}, {30, {{"es", 1}}}};
  int64_t start = f.now;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+15559999999", "support", "", std::nullopt});
  level_map matched_under = view_of(f.c, f.rules).routing().require;  // the dispatcher's view
  CHECK(matched_under == level_map{{"fr", 1}});
  f.now = start + 30'000;  // the step comes before the dispatcher's offer does
  f.run(cmd::tick{});
  REQUIRE(f.c.require == level_map{{"es", 1}});
  cmd::take_offer stale{"OF1", "alice", "client-alice", "support", false};
  stale.require = matched_under;
  auto r = f.run(stale);
  CHECK(r.result == outcome::conflict);
  CHECK_FALSE(std::get<offer_answer>(r.body).taken);
  CHECK(f.last.events.empty());
  CHECK(f.last.jobs.empty());
  CHECK(view_of(f.c, f.rules).dispatchable);  // still waits, to be matched again
  // Matched again under the requirement it has now: taken.
  cmd::take_offer fresh{"OF2", "bob", "client-bob", "support", false};
  fresh.require = view_of(f.c, f.rules).routing().require;
  r = f.run(fresh);
  CHECK(std::get<offer_answer>(r.body).taken);
  CHECK(f.c.phase == call_phase::offered);
}

TEST_CASE("call: an offer matched in the queue the call has overflowed from is refused") {
  call_fixture f;
  f.rules.feature_callback_request_system = false;
  f.queues["support"].config.overflow_after_seconds = 60;
  f.queues["support"].config.overflow_queue = "sales";
  int64_t start = f.now;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+15559999999", "support", "", std::nullopt});
  CHECK(view_of(f.c, f.rules).queue == "support");  // the dispatcher's view, matched among support
  f.now = start + 60'000;  // the overflow comes before the dispatcher's offer does
  f.run(cmd::tick{});
  REQUIRE(f.c.queue == "sales");
  auto r = f.run(cmd::take_offer{"OF1", "alice", "client-alice", "support", false});
  CHECK(r.result == outcome::conflict);
  CHECK_FALSE(std::get<offer_answer>(r.body).taken);
  CHECK(f.last.events.empty());
  CHECK(f.last.jobs.empty());
  CHECK(view_of(f.c, f.rules).dispatchable);  // still waits, to be matched again
  // Matched again among the members of sales: taken, as an offer of sales.
  r = f.run(cmd::take_offer{"OF2", "bob", "client-bob", "sales", false});
  CHECK(std::get<offer_answer>(r.body).taken);
  REQUIRE(f.c.phase == call_phase::offered);
  CHECK(std::get<call_offered>(f.last.events.at(0).body).queue == "sales");
}

TEST_CASE("call: skill steps relax a waiting call's requirement at the right second") {
  call_fixture f;
  f.rules.feature_callback_request_system = false;  // no callback offer in the way
  f.queues["support"].config.skill_steps = {{0, {{"es", 3}}}, {60, {{"es", 1}}}, {180, {}}};
  int64_t start = f.now;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+15559999999", "support", "", std::nullopt});
  REQUIRE(f.count<call_requirements_set>() == 1);
  auto first = std::get<call_requirements_set>(f.last.events.back().body);
  CHECK(first.step == 0);
  CHECK(first.require == level_map{{"es", 3}});
  CHECK(first.next_step_ms == start + 60'000);
  CHECK(view_of(f.c, f.rules).routing().require == level_map{{"es", 3}});
  CHECK(f.deadline() == start + 60'000);

  f.now = start + 59'999;  // a tick a millisecond early changes nothing
  f.run(cmd::tick{});
  CHECK(f.last.events.empty());
  // The tick at `ms` records exactly one change of requirement.
  auto step_at = [&](int64_t ms) {
    f.now = ms;
    f.run(cmd::tick{});
    REQUIRE(f.last.events.size() == 1);
    return std::get<call_requirements_set>(f.last.events[0].body);
  };
  auto second = step_at(start + 60'000);
  CHECK(second.step == 1);
  CHECK(second.require == level_map{{"es", 1}});
  CHECK(second.next_step_ms == start + 180'000);
  CHECK(f.deadline() == start + 180'000);

  auto last = step_at(start + 180'000);
  CHECK(last.step == 2);
  CHECK(last.require.empty());  // anyone now
  CHECK(last.next_step_ms == 0);
  CHECK(view_of(f.c, f.rules).routing().require.empty());
  CHECK(f.deadline() == 0);
  CHECK(f.replayed_digest() == digest_text(f.c));
}

TEST_CASE("call: a queue's steps re-timed while a call waits move its next relaxation") {
  call_fixture f;
  f.rules.feature_callback_request_system = false;
  f.queues["support"].config.skill_steps = {{0, {{"fr", 5}}}, {60, {{"fr", 1}}}};
  int64_t start = f.now;
  f.run(arrival("support"));
  REQUIRE(f.c.require_next_ms == start + 60'000);
  // Same step, same requirement now; the next step comes sooner.
  f.queues["support"].config.skill_steps = {{0, {{"fr", 5}}}, {30, {{"fr", 1}}}};
  f.now = start + 10'000;
  f.run(cmd::tick{});
  REQUIRE(f.count<call_requirements_set>() == 1);
  CHECK(f.c.require == level_map{{"fr", 5}});
  CHECK(f.deadline() == start + 30'000);
  f.now = start + 30'000;
  f.run(cmd::tick{});
  CHECK(f.c.require == level_map{{"fr", 1}});
}

TEST_CASE("call: the voice webhook's skills replace the first step, and hold alone in a queue without steps") {
  call_fixture f;
  f.rules.feature_callback_request_system = false;
  f.queues["support"].config.skill_steps = {{0, {{"es", 3}}}, {30, {}}};
  f.queues["plain"] = queue_facts{};
  int64_t start = f.now;
  cmd::incoming_call x{"CA1", "+15551234567", "+15559999999", "support", "", std::nullopt};
  x.skills = {{"billing", 2}};
  f.run(x);
  CHECK(f.c.routing().skills == level_map{{"billing", 2}});
  CHECK(f.c.require == level_map{{"billing", 2}});
  f.now = start + 30'000;
  f.run(cmd::tick{});
  CHECK(f.c.require.empty());
  CHECK(f.c.require_step == 1);

  call_fixture g;
  g.rules.feature_callback_request_system = false;
  g.queues["plain"] = queue_facts{};
  cmd::incoming_call y{"CA2", "+15551234567", "+15559999999", "plain", "", std::nullopt};
  y.skills = {{"fr", 1}};
  g.run(y);
  CHECK(g.c.require == level_map{{"fr", 1}});
  CHECK(g.c.require_step == 0);
  CHECK(g.deadline() == 0);

  // Replaying the events gives the same state (and digest).
  call_fixture h;
  h.rules.feature_callback_request_system = false;
  h.queues["plain"] = queue_facts{};
  h.run(cmd::incoming_call{"CA3", "+15551234567", "+15559999999", "plain", "", std::nullopt});
  CHECK(h.count<call_requirements_set>() == 0);  // nothing asked: nothing recorded
  CHECK(h.c.require_step == -1);
}

TEST_CASE("call: overflow moves a waiting caller at the right second, keeping enqueue time and priority") {
  call_fixture f;
  f.rules.feature_callback_request_system = false;  // no callback offer in the way
  f.queues["support"].config.overflow_after_seconds = 90;
  f.queues["support"].config.overflow_queue = "sales";
  f.queues["sales"].config.overflow_after_seconds = 30;
  f.queues["sales"].config.overflow_queue = "billing";
  f.queues["billing"] = queue_facts{};
  int64_t start = f.now;
  f.position = 4;
  cmd::incoming_call x = arrival("support");
  x.priority = 3;
  f.run(x);
  CHECK(f.deadline() == start + 90'000);

  f.now = start + 89'999;  // a millisecond early: nothing
  f.run(cmd::tick{});
  CHECK(f.last.events.empty());
  CHECK(f.c.queue == "support");

  f.now = start + 90'000;
  f.position = 2;
  f.run(cmd::tick{});
  REQUIRE(f.count<call_overflowed>() == 1);
  auto o = std::get<call_overflowed>(f.last.events[0].body);
  CHECK(o.queue == "support");
  CHECK(o.to_queue == "sales");
  CHECK(o.wait_seconds == 90);
  CHECK(o.orig_position == 4);
  CHECK(o.position == 2);
  CHECK(o.new_position == 2);
  CHECK(f.c.queue == "sales");
  CHECK(f.c.enqueued_ms == start);  // keeps its place among later callers
  CHECK(f.c.priority == 3);
  CHECK(f.c.phase == call_phase::queued);
  CHECK(f.c.orig_position == 2);
  CHECK(view_of(f.c, f.rules).queue == "sales");
  // The next hop counts from entering sales.
  CHECK(f.deadline() == start + 120'000);

  // A caller being rung when the time comes waits for the outcome.
  f.now = start + 110'000;
  f.run(cmd::take_offer{"OF1", "alice", "client-alice", "sales", false});
  f.now = start + 125'000;
  f.run(cmd::tick{});
  CHECK(f.count<call_overflowed>() == 0);
  f.run(cmd::dial_result{"OF1", "no-answer", "in-progress", 0});
  REQUIRE(f.count<call_overflowed>() == 1);  // at once, after the failed offer
  CHECK(f.c.queue == "billing");
  CHECK(f.c.routing().tried.empty());  // billing's agents have not failed it
  CHECK(f.deadline() == 0);  // billing does not overflow

  CHECK(f.replayed_digest() == digest_text(f.c));
}

TEST_CASE("call: a callback waiting does not overflow") {
  call_fixture f;
  f.queues["support"].config.overflow_after_seconds = 30;
  f.queues["support"].config.overflow_queue = "sales";
  f.queues["sales"] = queue_facts{};
  f.run(arrival("support"));
  f.run(cmd::callback_response{"CA9", "1"});
  CHECK(f.c.phase == call_phase::callback_waiting);
  f.now += 60'000;
  f.run(cmd::tick{});
  CHECK(f.count<call_overflowed>() == 0);
  CHECK(f.c.queue == "support");
}

TEST_CASE("call: a caller waits for the agent they talked to, then for anyone") {
  call_fixture f;
  f.rules.feature_callback_request_system = false;
  f.queues["support"].config.prefer_last_agent_seconds = 20;
  f.last_agents["+15551234567"] = "bob";
  f.available = {"bob"};
  int64_t start = f.now;
  f.run(arrival("support"));
  REQUIRE(f.count<call_agent_preferred>() == 1);
  auto p = std::get<call_agent_preferred>(f.last.events.back().body);
  CHECK(p.agent_id == "bob");
  CHECK(p.reason == "last-agent");
  CHECK(p.until_ms == start + 20'000);
  CHECK(view_of(f.c, f.rules).routing().preferred_agent == "bob");
  CHECK(f.deadline() == start + 20'000);

  f.now = start + 19'999;
  f.run(cmd::tick{});
  CHECK(f.last.events.empty());
  f.now = start + 20'000;  // gives up on bob: anyone now
  f.run(cmd::tick{});
  REQUIRE(f.count<call_agent_preferred>() == 1);
  p = std::get<call_agent_preferred>(f.last.events[0].body);
  CHECK(p.agent_id.empty());
  CHECK(p.reason == "timeout");
  CHECK(view_of(f.c, f.rules).routing().preferred_agent.empty());
  CHECK(f.deadline() == 0);
  CHECK(f.replayed_digest() == digest_text(f.c));
}

TEST_CASE("call: no wait for a last agent who cannot take the call, or who stops being able to") {
  // Not staffed (or not a member) at arrival: nothing recorded.
  call_fixture f;
  f.queues["support"].config.prefer_last_agent_seconds = 20;
  f.last_agents["+15551234567"] = "bob";
  f.run(arrival("support"));
  CHECK(f.count<call_agent_preferred>() == 0);
  CHECK(f.c.routing().preferred_agent.empty());
  // No earlier agent, or a queue without the rule: nothing either.
  call_fixture g;
  g.queues["support"].config.prefer_last_agent_seconds = 20;
  g.available = {"bob"};
  g.run(arrival("support"));
  CHECK(g.count<call_agent_preferred>() == 0);
  call_fixture h;
  h.queues["support"] = queue_facts{};
  h.last_agents["+15551234567"] = "bob";
  h.available = {"bob"};
  h.run(arrival("support"));
  CHECK(h.count<call_agent_preferred>() == 0);

  // Bob logs off while the caller waits: the next event ends the wait.
  call_fixture k;
  k.rules.feature_callback_request_system = false;
  k.queues["support"].config.prefer_last_agent_seconds = 60;
  k.last_agents["+15551234567"] = "bob";
  k.available = {"bob"};
  k.run(arrival("support"));
  REQUIRE(k.c.routing().preferred_agent == "bob");
  k.available.clear();
  k.now += 5'000;
  k.run(cmd::hold_poll{});
  REQUIRE(k.count<call_agent_preferred>() == 1);
  CHECK(std::get<call_agent_preferred>(k.last.events[0].body).reason == "unavailable");
  CHECK(k.c.routing().preferred_agent.empty());
}

TEST_CASE("call: a booked callback waits for its time, joins with the directory's priority then, and can be canceled until it starts") {
  call_fixture f;
  int64_t start = f.now;
  f.caller = {"Ada", 2};
  auto r = f.run(cmd::schedule_callback{"CB5", "+15551234567", "support", "", start + 3'600'000});
  CHECK(r.result == outcome::created);
  REQUIRE(std::holds_alternative<callback_answer>(r.body));
  CHECK(std::get<callback_answer>(r.body).state == "scheduled");
  REQUIRE(f.count<callback_scheduled>() == 1);
  auto b = std::get<callback_scheduled>(f.last.events[0].body);
  CHECK(b.call_sid == "CB5");
  CHECK(b.caller_name == "Ada");  // the directory's name when none is given
  CHECK(b.order == 7);
  CHECK(f.c.phase == call_phase::callback_scheduled);
  CHECK_FALSE(f.c.in_line());
  CHECK(f.deadline() == start + 3'600'000);

  f.now = start + 3'599'999;
  f.run(cmd::tick{});
  CHECK(f.last.events.empty());
  f.caller.priority = 9;  // the directory changed meanwhile
  f.now = start + 3'600'000;
  f.run(cmd::tick{});
  REQUIRE(f.count<callback_due>() == 1);
  CHECK(std::get<callback_due>(f.last.events[0].body).has_priority);
  CHECK(f.c.phase == call_phase::callback_waiting);
  CHECK(f.c.priority == 9);
  CHECK(f.c.enqueued_ms == start + 3'600'000);
  CHECK(view_of(f.c, f.rules).callback);
  CHECK(view_of(f.c, f.rules).routing().callback_id == "CB5");

  // Waiting, never tried: it can still be canceled.
  r = f.run(cmd::cancel_callback{"CB5"});
  CHECK(r.result == outcome::ok);
  CHECK(std::get<callback_answer>(r.body).state == "canceled");
  CHECK(f.c.phase == call_phase::callback_canceled);
  CHECK(is_finished(f.c.phase));
  CHECK(f.replayed_digest() == digest_text(f.c));
}

TEST_CASE("call: a callback booked for now joins the line at once, once started it cannot be canceled") {
  call_fixture f;
  f.run(cmd::schedule_callback{"CB6", "+15551234567", "sales", "Bo", f.now - 1000});
  CHECK(f.c.phase == call_phase::callback_waiting);
  CHECK(f.c.caller_name == "Bo");
  CHECK(f.c.queue == "sales");
  CHECK(f.c.enqueued_ms == f.now);
  CHECK(f.c.routing().callback_due_ms == 0);
  auto r = f.run(cmd::cancel_callback{"CB7"});
  CHECK(r.result == outcome::not_found);
  f.run(cmd::take_offer{"CB6", "alice", "client-alice", "sales", false});
  CHECK(f.c.phase == call_phase::callback_dialing);
  r = f.run(cmd::cancel_callback{"CB6"});
  CHECK(r.result == outcome::conflict);
  CHECK(r.reason.find("started") != std::string::npos);
  CHECK(f.last.events.empty());
  // A failed attempt puts it back in the line, but it has started.
  f.run(cmd::callback_call_failed{"CB6", "test"});
  CHECK(f.c.phase == call_phase::callback_waiting);
  r = f.run(cmd::cancel_callback{"CB6"});
  CHECK(r.result == outcome::conflict);
  CHECK(r.reason.find("after an attempt") != std::string::npos);
}

TEST_CASE("call: a callback's customer is dialled by one leg only, a late leg of an earlier attempt hears goodbye") {
  call_fixture f;
  f.run(cmd::schedule_callback{"CB6", "+15551234567", "sales", "Bo", f.now - 1000});
  f.run(cmd::take_offer{"CB6", "alice", "client-alice", "sales", false});
  REQUIRE(f.last.jobs.size() == 1);
  CHECK(f.last.jobs[0].what == rest_job::kind::create_call);
  CHECK(f.last.jobs[0].callback_attempt == 1);
  // Attempt 1's answer is lost (Twilio may have placed a leg, CAold): the
  // attempt fails, and attempt 2's call is placed as CAnew.
  f.run(cmd::callback_call_failed{"CB6", "timeout"});
  f.run(cmd::take_offer{"CB6", "alice", "client-alice", "sales", false});
  REQUIRE(f.last.jobs.size() == 1);
  CHECK(f.last.jobs[0].callback_attempt == 2);
  f.run(cmd::callback_call_placed{"CB6", "CAold", 1});  // a stale report: nothing
  CHECK(f.last.events.empty());
  f.run(cmd::callback_call_placed{"CB6", "CAnew", 2});
  REQUIRE(f.count<callback_call_placed>() == 1);
  CHECK(std::get<callback_call_placed>(f.last.events[0].body).leg_sid == "CAnew");

  // The current leg dials the customer; the old one, answered late, and any
  // other leg hear goodbye and record nothing; Twilio asking again for the
  // answered leg gets the same dial.
  auto r = f.run(cmd::callback_connect{"CB6", "CAnew"});
  CHECK(r.voice().what == kind::callback_dial);
  REQUIRE(f.count<callback_agent_answered>() == 1);
  CHECK(std::get<callback_agent_answered>(f.last.events[0].body).leg_sid == "CAnew");
  CHECK(f.run(cmd::callback_connect{"CB6", "CAold"}).voice().what == kind::goodbye);
  CHECK(f.last.events.empty());
  CHECK(f.run(cmd::callback_connect{"CB6", "CAnew"}).voice().what == kind::callback_dial);
  CHECK(f.last.events.empty());
  f.run(cmd::callback_call_placed{"CB6", "CAnew", 2});  // after the answer: nothing
  CHECK(f.last.events.empty());
  CHECK(f.replayed_digest() == digest_text(f.c));
}

TEST_CASE("call: the first callback leg to answer is the attempt's, whatever Twilio's answer said, and the only one to dial the customer") {
  call_fixture f;
  f.run(cmd::schedule_callback{"CB6", "+15551234567", "sales", "Bo", f.now - 1000});
  f.run(cmd::take_offer{"CB6", "alice", "client-alice", "sales", false});
  f.run(cmd::callback_call_placed{"CB6", "CAplaced", 1});
  // A leg placed before a restart (its sid never recorded) answers first.
  CHECK(f.run(cmd::callback_connect{"CB6", "CAbefore"}).voice().what == kind::callback_dial);
  CHECK(f.c.routing().callback_leg_sid == "CAbefore");
  CHECK(f.run(cmd::callback_connect{"CB6", "CAplaced"}).voice().what == kind::goodbye);
  CHECK(f.count<callback_agent_answered>() == 0);
  // The next attempt starts afresh.
  f.run(cmd::callback_result{"CB6", "no-answer", 0});
  CHECK(f.c.phase == call_phase::callback_waiting);
  CHECK(f.c.routing().callback_leg_sid.empty());
  CHECK(f.replayed_digest() == digest_text(f.c));
}

TEST_CASE("call: ring-all rings every reserved agent, the first leg in progress wins, the others stop at once") {
  call_fixture f;
  f.run(arrival("support"));
  cmd::take_offer offer{"OF1", "alice", "client-alice", "support", false};
  offer.also = {{"bob", "client-bob"}, {"carol", "client-carol"}};
  f.run(offer);
  REQUIRE(f.count<call_offered>() == 1);
  auto o = std::get<call_offered>(f.last.events[0].body);
  CHECK(o.agent_id == "alice");
  CHECK(o.agents == std::vector<std::string>{"alice", "bob", "carol"});
  auto dial = f.run(cmd::connect_agent{"OF1"});
  REQUIRE(dial.voice().ring_all.size() == 3);
  CHECK(dial.voice().ring_all[1] == std::make_pair(std::string("bob"), std::string("client-bob")));

  // Two legs answer almost together: bob's report comes first and wins.
  f.now += 4'000;
  f.run(cmd::agent_leg_status{"OF1", "in-progress", "bob"});
  REQUIRE(f.count<call_connected>() == 1);
  CHECK(std::get<call_connected>(f.last.events[0].body).agent_id == "bob");
  CHECK(f.c.routing().agent_id == "bob");
  CHECK(f.c.routing().ring_all.empty());
  REQUIRE(f.last.notices.size() == 3);
  std::map<std::string, offer_notice> by_agent;
  for (auto& n : f.last.notices)
    by_agent[n.agent_id] = n;
  CHECK(by_agent["bob"].what == offer_notice::kind::answered);
  CHECK(by_agent["alice"].what == offer_notice::kind::ended);
  CHECK(by_agent["alice"].reason == "answered-elsewhere");
  CHECK_FALSE(by_agent["alice"].missed);
  CHECK(by_agent["carol"].what == offer_notice::kind::ended);
  f.run(cmd::agent_leg_status{"OF1", "in-progress", "carol"});
  CHECK(f.last.events.empty());  // exactly one wins
  CHECK(f.last.notices.empty());
  f.run(cmd::dial_result{"OF1", "completed", "completed", 30});
  REQUIRE(f.count<call_completed>() == 1);
  CHECK(std::get<call_completed>(f.last.events[0].body).agent_id == "bob");
  CHECK(f.replayed_digest() == digest_text(f.c));
}

TEST_CASE("call: a ring-all no-answer releases every agent and counts a miss for each") {
  call_fixture f;
  f.run(arrival("support"));
  cmd::take_offer offer{"OF1", "alice", "client-alice", "support", false};
  offer.also = {{"bob", "client-bob"}};
  f.run(offer);
  // A leg of an agent the offer did not ring changes nothing.
  f.run(cmd::agent_leg_status{"OF1", "in-progress", "mallory"});
  CHECK(f.last.events.empty());
  f.run(cmd::dial_result{"OF1", "no-answer", "in-progress", 0});
  REQUIRE(f.count<call_offer_failed>() == 1);
  CHECK(std::get<call_offer_failed>(f.last.events[0].body).agents ==
        std::vector<std::string>{"alice", "bob"});
  REQUIRE(f.last.notices.size() == 2);
  for (auto& n : f.last.notices) {
    CHECK(n.what == offer_notice::kind::ended);
    CHECK(n.missed);
  }
  CHECK(f.c.phase == call_phase::queued);
  CHECK(f.c.routing().tried == std::vector<std::string>{"alice", "bob"});
  CHECK(view_of(f.c, f.rules).routing().tried.size() == 2);
  CHECK(f.replayed_digest() == digest_text(f.c));
}

TEST_CASE("call: an offer taken after its agents' share of the reservation time is refused") {
  // The dispatcher asks the call to take the offer by take_by_ms, half the
  // agents' reservation time: later, the agents' confirm could arrive after
  // their reservation timed out, and the call would ring a free agent.
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  cmd::take_offer late{"OF1", "alice", "client-alice", "support", false};
  late.take_by_ms = f.now - 1;
  auto r = f.run(late);
  CHECK(r.result == outcome::conflict);
  CHECK(f.last.events.empty());
  CHECK(f.last.jobs.empty());
  CHECK(view_of(f.c, f.rules).dispatchable);
  cmd::take_offer in_time{"OF2", "alice", "client-alice", "support", false};
  in_time.take_by_ms = f.now;
  r = f.run(in_time);
  REQUIRE(std::holds_alternative<offer_answer>(r.body));
  CHECK(std::get<offer_answer>(r.body).taken);
  CHECK(f.c.routing().offer_id == "OF2");
}
