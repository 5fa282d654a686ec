// The contact centre's rules, end to end through the real actors (every
// call and agent its own actor, the dispatcher, the journal) on CAF's test
// scheduler, in virtual time.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/call/wait_prediction.hpp"
#include "actors/feature_flags.hpp"
#include "tests/actor_harness.hpp"

using namespace callq;
using namespace callq::events;
using center_harness = callq::testing::actor_harness;
using kind = voice_reply::kind;

TEST_CASE("an incoming call is recorded, queued and answered with Enqueue") {
  center_harness h;
  h.run(cmd::put_caller{"+15551234567", "Ada", 0});
  auto r = h.incoming("CA1", "+15551234567");
  REQUIRE(r.is_voice());
  CHECK(r.voice().what == kind::enqueue);
  CHECK(r.voice().queue == "support");
  CHECK(r.voice().greeting_name == "Ada");
  CHECK(h.count_last<call_arrived>() == 1);
  REQUIRE(h.find_last<call_enqueued>());
  CHECK(h.find_last<call_enqueued>()->position == 1);
  h.incoming("CA2");
  CHECK(h.find_last<call_enqueued>()->position == 2);
  CHECK(h.state().find_call("CA2")->caller_name.empty());
}

TEST_CASE("the same voice webhook twice appends nothing the second time") {
  center_harness h;
  auto first = h.incoming("CA1");
  auto second = h.incoming("CA1");
  CHECK(h.last_events.empty());
  CHECK(first.voice() == second.voice());
}

TEST_CASE("a ready agent is offered the waiting call at once") {
  center_harness h;
  h.incoming("CA1");
  h.add_ready_agent("alice");
  auto* o = h.find_last<call_offered>();
  REQUIRE(o);
  CHECK(o->agent_id == "alice");
  CHECK(o->call_sid == "CA1");
  CHECK(o->attempt == 1);
  CHECK(h.agent_state("alice") == "ringing");

  // connect-agent dials the agent's client identity
  auto r = h.run(cmd::connect_agent{o->offer_id});
  CHECK(r.voice().what == kind::dial_agent);
  CHECK(r.voice().identity == "client-alice");
  CHECK(h.last_events.empty());
}

TEST_CASE("an agent who is ready gets the next call the moment it arrives") {
  center_harness h;
  h.add_ready_agent("alice");
  h.incoming("CA1");
  REQUIRE(h.find_last<call_offered>());
  CHECK(h.find_last<call_offered>()->agent_id == "alice");
}

TEST_CASE("calls are dispatched by priority, then by wait time") {
  center_harness h;
  h.incoming("CA-old");
  h.now += 1000;
  h.incoming("CA-new");
  h.now += 1000;
  h.incoming("CA-vip", "+1", 10);
  std::vector<std::string> order;
  auto view = h.state().status(h.now);
  for (auto& w : view.queues.at(0).waiting)
    order.push_back(w.call_sid);
  CHECK(order == std::vector<std::string>{"CA-vip", "CA-old", "CA-new"});
  h.add_ready_agent("alice");
  CHECK(h.find_last<call_offered>()->call_sid == "CA-vip");
  h.add_ready_agent("bob");
  CHECK(h.find_last<call_offered>()->call_sid == "CA-old");
}

TEST_CASE("agents are chosen by readiness, then by longest idle") {
  center_harness h;
  h.add_ready_agent("late");
  h.now += 5000;
  h.add_ready_agent("early-but-later-idle");
  h.incoming("CA1");
  CHECK(h.find_last<call_offered>()->agent_id == "late");  // idle longest

  center_harness g;
  g.add_ready_agent("missy");
  g.incoming("CA1");
  g.run(cmd::dial_result{g.offer_of("CA1"), "no-answer", "in-progress", 0});
  auto* again = g.find_last<call_offered>();
  REQUIRE(again);  // the only agent: tried again rather than left idle
  CHECK(again->agent_id == "missy");
  CHECK(again->attempt == 2);
  g.run(cmd::call_status{"CA1", "completed"});  // the caller gives up
  CHECK(g.state().find_agent("missy")->readiness == 80);
  g.now += 1000;
  g.add_ready_agent("fresh");  // idle for less time, but readier
  g.incoming("CA2");
  REQUIRE(g.find_last<call_offered>());
  CHECK(g.find_last<call_offered>()->agent_id == "fresh");
}

TEST_CASE("a failed offer puts the call back at its place and tries the next agent at once") {
  center_harness h;
  h.incoming("CA1");
  h.now += 10;
  h.incoming("CA2");
  h.add_ready_agent("alice");
  std::string offer = h.offer_of("CA1");
  h.add_ready_agent("bob");  // bob gets CA2
  CHECK(h.find_last<call_offered>()->call_sid == "CA2");
  h.add_ready_agent("carol");
  CHECK(h.find_last<call_offered>() == nullptr);  // nothing waiting

  auto r = h.run(cmd::dial_result{offer, "no-answer", "in-progress", 0});
  CHECK(r.voice().what == kind::enqueue);
  CHECK_FALSE(r.voice().greet);
  REQUIRE(h.find_last<call_offer_failed>());
  CHECK(h.find_last<call_offer_failed>()->reason == "no-answer");
  auto* next = h.find_last<call_offered>();
  REQUIRE(next);
  CHECK(next->call_sid == "CA1");
  CHECK(next->agent_id == "carol");
  CHECK(next->attempt == 2);
  CHECK(h.state().find_agent("alice")->missed == 1);
}

TEST_CASE("two failures escalate, three offer a callback, three misses auto-pause") {
  policy p;
  center_harness h(p);
  h.incoming("CA-first");
  h.now += 10;
  h.incoming("CA1");
  h.add_ready_agent("a1");  // takes CA-first
  h.run(cmd::agent_leg_status{h.offer_of("CA-first"), "in-progress"});
  h.add_ready_agent("a2");
  h.add_ready_agent("a3");
  h.add_ready_agent("a4");
  REQUIRE(h.state().find_call("CA1")->routing().agent_id == "a2");
  h.run(cmd::dial_result{h.offer_of("CA1"), "no-answer", "in-progress", 0});
  CHECK(h.count_last<call_escalated>() == 0);
  h.run(cmd::dial_result{h.offer_of("CA1"), "busy", "in-progress", 0});
  CHECK(h.count_last<call_escalated>() == 1);
  CHECK(h.state().find_call("CA1")->escalated);
  h.run(cmd::dial_result{h.offer_of("CA1"), "failed", "in-progress", 0});
  REQUIRE(h.find_last<callback_offered>());
  CHECK(h.find_last<callback_offered>()->reason == "max-attempts");
  auto hold = h.run(cmd::hold_poll{"CA1"});
  CHECK(hold.voice().offer_callback);
  // Every agent has failed it: the caller first gets time to take the offer.
  CHECK(h.state().find_call("CA1")->phase == call_phase::queued);
  CHECK(h.check_invariants().empty());
  h.heartbeat("a2");
  h.heartbeat("a3");
  h.heartbeat("a4");
  h.advance(30'000);
  CHECK(h.state().find_call("CA1")->phase == call_phase::offered);

  center_harness g;
  g.add_ready_agent("sleepy");
  g.incoming("CA0");
  for (int i = 0; i < 3; ++i)  // the only agent misses the same call 3 times
    g.run(cmd::dial_result{g.state().find_agent("sleepy")->offer_id, "no-answer", "in-progress", 0});
  CHECK(g.count_last<agent_paused>() == 1);
  CHECK(g.find_last<agent_paused>()->reason == "auto-pause");
  CHECK(g.state().find_agent("sleepy")->paused);
  CHECK(g.agent_state("sleepy") == "break");
  g.heartbeat("sleepy");  // still says available: stays paused
  CHECK(g.state().find_agent("sleepy")->paused);
  CHECK(g.count_last<call_offered>() == 0);
  g.heartbeat("sleepy", "break");
  g.heartbeat("sleepy", "available");
  CHECK_FALSE(g.state().find_agent("sleepy")->paused);
  g.advance(30'000);  // the caller had time to hear the callback offer
  CHECK(g.count_last<call_offered>() == 1);
}

TEST_CASE("a completed call puts the agent in wrap-up, then the agent takes the next call") {
  center_harness h;
  h.add_ready_agent("alice");
  h.incoming("CA1");
  std::string offer = h.offer_of("CA1");
  h.run(cmd::agent_leg_status{offer, "in-progress"});
  CHECK(h.count_last<call_connected>() == 1);
  h.incoming("CA2");  // waits: alice is on a call
  CHECK(h.count_last<call_offered>() == 0);
  h.now += 60'000;
  h.heartbeat("alice");
  auto r = h.run(cmd::dial_result{offer, "completed", "in-progress", 60});
  CHECK(r.voice().what == kind::hangup);
  REQUIRE(h.find_last<call_completed>());
  CHECK(h.find_last<call_completed>()->ended_by == "agent");
  CHECK(h.find_last<call_completed>()->talk_seconds == 60);
  CHECK(h.count_last<agent_wrap_up_started>() == 1);
  CHECK(h.count_last<call_offered>() == 0);
  h.advance(14'000);
  CHECK(h.count_last<call_offered>() == 0);
  h.advance(1'000);
  CHECK(h.count_last<agent_wrap_up_ended>() == 1);
  REQUIRE(h.find_last<call_offered>());
  CHECK(h.find_last<call_offered>()->call_sid == "CA2");
}

TEST_CASE("an agent with a stale heartbeat or no device is never offered") {
  center_harness h;
  h.add_ready_agent("alice");
  h.advance(59'000);
  CHECK(h.state().find_agent("alice")->fresh);
  h.advance(1'000);
  REQUIRE(h.find_last<agent_heartbeat_expired>());
  CHECK(h.find_last<agent_heartbeat_expired>()->reason == "heartbeat-timeout");
  h.incoming("CA1");
  CHECK(h.count_last<call_offered>() == 0);
  h.heartbeat("alice");
  CHECK(h.count_last<agent_heartbeat_resumed>() == 1);
  CHECK(h.count_last<call_offered>() == 1);

  center_harness g;
  g.run(cmd::put_agent{"bob", "Bob", "bob", "hash-bob", {"support"}, {}, {}, {}});
  g.heartbeat("bob", "available", false);
  g.incoming("CA1");
  CHECK(g.count_last<call_offered>() == 0);
  CHECK(g.agent_state("bob") == "unregistered");
  g.heartbeat("bob", "available", true);
  CHECK(g.count_last<call_offered>() == 1);
}

TEST_CASE("heartbeats check the agent and its token") {
  center_harness h;
  CHECK(h.heartbeat("ghost").result == outcome::not_found);
  h.run(cmd::put_agent{"alice", "Alice", "alice", "hash-alice", {"support"}, {}, {}, {}});
  auto r = h.run(cmd::heartbeat{"alice", "wrong", "available", true});
  CHECK(r.result == outcome::unauthorized);
  CHECK(h.last_events.empty());
  r = h.heartbeat("alice");
  CHECK(r.result == outcome::ok);
  REQUIRE(std::holds_alternative<agent_answer>(r.body));
  CHECK(std::get<agent_answer>(r.body).state == "available");
  CHECK(std::get<agent_answer>(r.body).readiness == 100);
  CHECK(std::get<agent_answer>(r.body).heartbeat_interval_seconds == 30);
}

TEST_CASE("a long wait offers a callback that keeps the caller's place") {
  center_harness h;
  h.incoming("CA1");
  h.now += 1;
  h.incoming("CA2");
  auto r = h.run(cmd::hold_poll{"CA2"});
  CHECK(r.voice().announce);
  CHECK(r.voice().position == 2);
  CHECK_FALSE(r.voice().offer_callback);
  h.now += 10'000;
  r = h.run(cmd::hold_poll{"CA2"});
  CHECK_FALSE(r.voice().announce);  // not yet POSITION_ANNOUNCE_INTERVAL
  h.advance(600'000);
  CHECK(h.count_last<callback_offered>() == 2);
  r = h.run(cmd::hold_poll{"CA1"});
  CHECK(r.voice().offer_callback);
  CHECK(r.voice().announce);

  r = h.run(cmd::callback_response{"CA1", "2"});
  CHECK(r.voice().what == kind::callback_declined);
  CHECK(h.last_events.empty());
  r = h.run(cmd::callback_response{"CA1", "1"});
  CHECK(r.voice().what == kind::callback_confirmed);
  REQUIRE(h.find_last<callback_requested>());
  CHECK(h.find_last<callback_requested>()->position == 1);
  std::string cb = h.find_last<callback_requested>()->callback_id;
  r = h.run(cmd::callback_response{"CA1", "1"});  // a retry
  CHECK(r.voice().what == kind::callback_confirmed);
  CHECK(h.last_events.empty());
  CHECK(h.run(cmd::queue_left{"CA1", "leave"}).voice().what == kind::goodbye);
  CHECK(h.run(cmd::hold_poll{"CA2"}).voice().position == 2);  // CA1 kept its place

  h.add_ready_agent("alice");
  REQUIRE(h.find_last<callback_started>());
  CHECK(h.find_last<callback_started>()->call_sid == "CA1");
  r = h.run(cmd::callback_connect{cb, "CAleg-" + cb});
  CHECK(r.voice().what == kind::callback_dial);
  CHECK(r.voice().number == "+15550000000");
  h.run(cmd::callback_result{cb, "completed", 30});
  CHECK(h.count_last<callback_completed>() == 1);
  CHECK(h.count_last<agent_wrap_up_started>() == 1);
}

TEST_CASE("a callback is tried at most three times and escalated past its SLA") {
  center_harness h;
  h.incoming("CA1");
  h.advance(600'000);
  h.run(cmd::callback_response{"CA1", "1"});
  std::string cb = h.state().find_call("CA1")->routing().callback_id;
  h.advance(1'800'000);
  CHECK(h.count_last<callback_escalated>() == 1);
  h.add_ready_agent("a1");
  h.add_ready_agent("a2");
  h.add_ready_agent("a3");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    const call_state* c = h.state().find_call("CA1");
    REQUIRE(c->phase == call_phase::callback_dialing);
    CHECK(c->routing().callback_attempts == attempt);
    h.run(cmd::callback_connect{cb, "CAleg-" + cb});
    h.run(cmd::callback_result{cb, "no-answer", 0});
    REQUIRE(h.find_last<callback_failed>());
    CHECK(h.find_last<callback_failed>()->final == (attempt == 3));
  }
  CHECK(h.state().find_call("CA1") == nullptr);  // finished
  CHECK(h.find_last<callback_failed>()->final);
}

TEST_CASE("hanging up while waiting or ringing abandons the call and frees the agent") {
  center_harness h;
  h.incoming("CA1");
  h.run(cmd::queue_left{"CA1", "hangup"});
  REQUIRE(h.find_last<call_abandoned>());
  CHECK(h.find_last<call_abandoned>()->position == 1);
  CHECK(h.state().status(h.now).queues.at(0).waiting.empty());

  h.incoming("CA2");
  h.add_ready_agent("alice");
  REQUIRE(h.state().find_call("CA2")->phase == call_phase::offered);
  h.run(cmd::call_status{"CA2", "completed"});
  CHECK(h.count_last<call_offer_failed>() == 1);
  CHECK(h.count_last<call_abandoned>() == 1);
  CHECK(h.agent_state("alice") == "available");
  CHECK(h.state().find_agent("alice")->missed == 0);
}

TEST_CASE("an offer Twilio never reports on times out") {
  center_harness h;
  h.add_ready_agent("alice");
  h.heartbeat("alice");
  h.incoming("CA1");
  h.advance(29'000);
  CHECK(h.count_last<call_offer_failed>() == 0);
  h.advance(1'000);
  REQUIRE(h.find_last<call_offer_failed>());
  CHECK(h.find_last<call_offer_failed>()->reason == "timeout");
}

TEST_CASE("unknown offers and calls are errors that append nothing") {
  center_harness h;
  CHECK(h.run(cmd::connect_agent{"OF99"}).result == outcome::invalid);
  CHECK(h.run(cmd::dial_result{"OF99", "completed", "", 0}).result == outcome::invalid);
  CHECK(h.run(cmd::hold_poll{"CA404"}).result == outcome::invalid);
  CHECK(h.run(cmd::callback_connect{"CB1", "CAleg1"}).result == outcome::invalid);
  CHECK(h.log.size() == 1);  // system.started only
}

TEST_CASE("a stale offer sends the caller back into the queue at the same place") {
  center_harness h;
  h.incoming("CA1");
  h.add_ready_agent("alice");
  std::string offer = h.offer_of("CA1");
  h.run(cmd::redirect_failed{offer, "HTTP 500"});
  CHECK(h.count_last<call_offer_failed>() == 1);
  auto r = h.run(cmd::connect_agent{offer});
  CHECK(r.voice().what == kind::enqueue);
}

TEST_CASE("legacy routing dials the best ready agent from the voice webhook") {
  policy p;
  p.feature_enhanced_queue = false;
  center_harness h(p);
  h.add_ready_agent("alice");
  auto r = h.incoming("CA1");
  CHECK(r.voice().what == kind::dial_agent);
  CHECK(r.voice().identity == "client-alice");
  CHECK(h.find_last<call_offered>()->direct);
  r = h.incoming("CA2");
  CHECK(r.voice().what == kind::enqueue);
}

TEST_CASE("readiness follows the documented formula") {
  policy p;
  agent_state a;
  a.status = agent_status::available;
  a.fresh = true;
  a.device = true;
  a.last_heartbeat_ms = 1000;
  a.idle_since_ms = 1000;
  CHECK(readiness_score(a, p, 1000) == 100);
  CHECK(readiness_score(a, p, 1000 + 45'000) == 80);  // halfway from interval to timeout
  a.missed = 2;
  CHECK(readiness_score(a, p, 1000) == 60);
  a.device = false;
  CHECK(readiness_score(a, p, 1000) == 10);
  a.fresh = false;
  CHECK(readiness_score(a, p, 1000) == 0);
}

TEST_CASE("the wait estimate: position departures at the staffed agents' rate, with its 10th-90th range") {
  center_harness h;
  h.incoming("CA1");
  auto r = h.run(cmd::hold_poll{"CA1"});
  // Nobody staffed counts as one; the default handle time.
  CHECK(r.voice().wait_estimate_seconds == predict_wait(1, 1, 180'000).estimate_seconds);
  for (auto id : {"a", "b"}) {
    h.run(cmd::put_agent{id, id, id, std::string("hash-") + id, {"support"}, {}, {}, {}});
    h.heartbeat(id, "busy");
  }
  for (int i = 2; i <= 5; ++i)
    h.incoming("CA" + std::to_string(i));
  r = h.run(cmd::hold_poll{"CA5"});
  CHECK(r.voice().position == 5);
  // 5 departures at 2 per 180 s: mean 450 s, its 40th percentile less.
  int64_t median = r.voice().wait_estimate_seconds;
  CHECK(median == predict_wait(5, 2, 180'000).estimate_seconds);
  CHECK(median > 350);
  CHECK(median < 450);
  CHECK(r.voice().wait_low_seconds < median);
  CHECK(r.voice().wait_high_seconds > median);
  // The announcement records the range and what the caller heard of it.
  auto* a = h.find_last<call_announced>();
  REQUIRE(a != nullptr);
  CHECK(a->estimated_wait_seconds == median);
  CHECK(a->wait_low_seconds == r.voice().wait_low_seconds);
  CHECK(a->wait_high_seconds == r.voice().wait_high_seconds);
  CHECK(a->spoken == "estimate");
}

TEST_CASE("restart: replayed state equals live state, open offers are resolved as failed") {
  center_harness h;
  h.add_ready_agent("alice");
  h.incoming("CA1");
  h.incoming("CA2");
  h.now += 1234;
  h.run(cmd::hold_poll{"CA2"});
  h.run(cmd::put_caller{"+1555", "Ada", 3});
  CHECK(h.check_invariants().empty());
  CHECK(h.replayed().digest() == h.state().digest());

  h.now += 5000;
  h.restart();
  bool failed = false;
  for (auto& e : h.log)
    if (auto* f = std::get_if<call_offer_failed>(&e.body))
      failed = failed || (f->reason == "recovered" && f->call_sid == "CA1");
  CHECK(failed);
  const world& w = h.state();
  const call_state* c1 = w.find_call("CA1");
  REQUIRE(c1);
  CHECK(c1->phase == call_phase::queued);
  CHECK(w.position_of("support", c1->key()) == 1);
  // alice comes back as the log says, but is not offered until she heartbeats
  CHECK(h.agent_state("alice") == "available");
  CHECK(h.state().find_agent("alice")->readiness == 0);
  CHECK(h.state().find_agent("alice")->offer_id.empty());
  CHECK(h.check_invariants().empty());
  h.heartbeat("alice");
  CHECK(h.find_last<call_offered>());
  CHECK(h.find_last<call_offered>()->call_sid == "CA1");
  CHECK(h.check_invariants().empty());
}

TEST_CASE("queue cleanup drops finished calls and abandons orphans") {
  center_harness h;
  h.incoming("CA1");
  h.incoming("CA2");
  h.run(cmd::call_status{"CA1", "completed"});
  h.now += 900'000;
  auto r = h.run(cmd::queue_cleanup{});
  REQUIRE(std::holds_alternative<cleanup_answer>(r.body));
  CHECK(std::get<cleanup_answer>(r.body).ids == std::vector<std::string>{"CA2"});
  CHECK(std::get<cleanup_answer>(r.body).count == 1);  // CA1 ended long enough ago
  CHECK(h.rt().actors().calls == 0);  // finished calls' actors have stopped
  h.now += 600'000;
  r = h.run(cmd::queue_cleanup{});
  CHECK(std::get<cleanup_answer>(r.body).count == 1);
  CHECK(h.state().calls().empty());
}

TEST_CASE("a voice webhook for a call that finished before a restart or a purge writes no second arrival") {
  // Reproduced: voice webhook without an idempotency token, the call
  // abandoned, callq restarted, the same webhook again. The finished call
  // must not wait in the queue again (a second call.arrived in its stream).
  center_harness h;
  auto first = h.incoming("CA1");
  REQUIRE(first.voice().what == kind::enqueue);
  h.run(cmd::call_status{"CA1", "completed"});
  REQUIRE(h.count_last<call_abandoned>() == 1);
  auto arrivals = [&] { return h.all<call_arrived>().size(); };
  REQUIRE(arrivals() == 1);

  SECTION("after a restart") { h.restart(); }
  SECTION("after the finished call left the registry") {
    h.now += 900'000;
    h.run(cmd::queue_cleanup{});
    h.now += 600'000;
    h.run(cmd::queue_cleanup{});
  }
  auto again = h.incoming("CA1");
  CHECK(h.last_events.empty());
  CHECK(arrivals() == 1);
  REQUIRE(again.is_voice());
  CHECK(again.voice().what == kind::hangup);
  CHECK(h.state().find_call("CA1") == nullptr);
  CHECK(h.rt().actors().calls == 0);
  CHECK(h.check_invariants().empty());
}

TEST_CASE("a crash of the journal, dispatcher, timers or gateway is survived: every actor is rebuilt from the log, nothing is lost") {
  const char* which = GENERATE("journal", "dispatcher", "timers", "gateway");
  INFO(which);
  center_harness h;
  h.incoming("CA1");
  h.incoming("CA2");
  REQUIRE(h.rt().crash_for_test(which));
  // Nothing answers as if all were well meanwhile.
  CHECK_FALSE(h.rt().storage().writable());
  CHECK(h.incoming("CA3").result == outcome::unavailable);
  // The watcher (here: the test) rebuilds every actor from the log.
  REQUIRE(h.rt().check_storage());
  CHECK(h.rt().storage().writable());
  CHECK(h.rt().actors().calls == 2);
  // Dispatching works again, in the order the log says.
  h.add_ready_agent("alice");
  REQUIRE(h.find_last<call_offered>());
  CHECK(h.find_last<call_offered>()->call_sid == "CA1");
  CHECK(h.incoming("CA3").voice().what == kind::enqueue);
  CHECK(h.state().calls().size() == 3);
  CHECK(h.check_invariants().empty());
}

TEST_CASE("a crash whose rebuild fails takes the runtime down for a restart: on_fatal once, no half-working state") {
  center_harness h;
  h.incoming("CA1");
  CHECK(h.rt().down().empty());
  REQUIRE(h.rt().crash_for_test("dispatcher", true));
  CHECK_FALSE(h.rt().check_storage());
  CHECK_FALSE(h.rt().down().empty());
  REQUIRE(h.fatal.size() == 1);
  CHECK(h.fatal[0] == h.rt().down());
  // It stays down: the watcher does not try again and calls are refused.
  CHECK_FALSE(h.rt().check_storage());
  CHECK(h.fatal.size() == 1);
  CHECK_FALSE(h.rt().storage().writable());
  CHECK(h.rt().actors().calls == 0);
  CHECK(h.incoming("CA2").result == outcome::unavailable);
  // A restart reads the log anew.
  h.restart();
  CHECK(h.rt().down().empty());
  CHECK(h.state().find_call("CA1") != nullptr);
}

TEST_CASE("an offer id used only by a refused reservation is never issued again, across a restart") {
  // The agent reserved OF9 for CA1, whose call refused it (it had hung up):
  // the log holds only the agent's side of OF9. A restarted server must
  // not issue OF9 again (Twilio and the export would see one id twice).
  callq::testing::temp_dir tmp;
  std::string dir = tmp.path() + "/data";
  {
    std::unique_ptr<storage::event_log> log;
    REQUIRE(storage::event_log::open_data_dir(dir, {}, &log));
    int64_t ts = 1'795'608'000'000 - 60'000;
    agent_created created;
    created.agent_id = "bob";
    created.client_identity = "client-bob";
    created.token_hash = "hash";
    created.queues = {"support"};
    std::vector<event> evs = {{ts, created},
                              {ts, agent_offer_received{"bob", "OF9", "CA1", "support"}},
                              {ts, agent_offer_ended{"bob", "OF9", "CA1", "call-gone", false}}};
    uint64_t first = 0;
    REQUIRE(log->append(evs, {}, true, &first));
  }
  center_harness h(policy{}, 0, dir);
  h.incoming("CA2");
  h.add_ready_agent("alice");
  REQUIRE(h.find_last<call_offered>());
  CHECK(h.find_last<call_offered>()->offer_id == "OF10");
  // And again from the snapshot a clean stop writes.
  h.run(cmd::dial_result{"OF10", "no-answer", "in-progress", 0});
  std::string last = h.all<call_offered>().back().offer_id;  // OF10, or OF11 rung again at once
  h.restart();
  h.heartbeat("alice");
  REQUIRE(h.find_last<call_offered>());
  CHECK(h.find_last<call_offered>()->offer_id == "OF" + std::to_string(std::stoi(last.substr(2)) + 1));
}

TEST_CASE("feature flags turn their parts off") {
  SECTION("FEATURE_AGENT_HEARTBEAT=false: heartbeats never expire") {
    policy p;
    p.feature_agent_heartbeat = false;
    center_harness h(p);
    h.add_ready_agent("alice");
    h.advance(3'600'000);
    CHECK(h.count_last<agent_heartbeat_expired>() == 0);
    h.incoming("CA1");
    CHECK(h.count_last<call_offered>() == 1);
  }
  SECTION("FEATURE_DEVICE_CONNECTIVITY=false: an unregistered softphone is offered") {
    policy p;
    p.feature_device_connectivity = false;
    p.feature_enhanced_discovery = false;  // readiness would count the device
    center_harness h(p);
    h.run(cmd::put_agent{"bob", "Bob", "bob", "hash-bob", {"support"}, {}, {}, {}});
    h.heartbeat("bob", "available", false);
    h.incoming("CA1");
    CHECK(h.count_last<call_offered>() == 1);
  }
  SECTION("FEATURE_QUEUE_POSITION_UPDATES=false and FEATURE_CALLBACK_REQUEST_SYSTEM=false") {
    policy p;
    p.feature_queue_position_updates = false;
    p.feature_callback_request_system = false;
    center_harness h(p);
    h.incoming("CA1");
    h.advance(700'000);
    auto r = h.run(cmd::hold_poll{"CA1"});
    CHECK_FALSE(r.voice().announce);
    CHECK_FALSE(r.voice().offer_callback);
    CHECK(h.all<callback_offered>().empty());
    CHECK(h.run(cmd::callback_response{"CA1", "1"}).voice().what == kind::callback_declined);
  }
  SECTION("FEATURE_MULTI_AGENT_FALLBACK=false: a failed call waits for the sweep") {
    policy p;
    p.feature_multi_agent_fallback = false;
    center_harness h(p);
    h.add_ready_agent("alice");
    h.incoming("CA1");
    h.add_ready_agent("bob");
    h.run(cmd::dial_result{h.offer_of("CA1"), "no-answer", "in-progress", 0});
    CHECK(h.count_last<call_offered>() == 0);
    h.run(cmd::sweep{});
    REQUIRE(h.find_last<call_offered>());
    CHECK(h.find_last<call_offered>()->agent_id == "bob");
  }
}

TEST_CASE("a caller who cannot be called back is never offered a callback") {
  for (std::string from : {"anonymous", "+266696687", "client:alice", "sip:bob@example.com"}) {
    INFO("From=" << from);
    center_harness h;
    h.incoming("CA1", from);
    auto r = h.run(cmd::hold_poll{"CA1"});
    CHECK(r.voice().announce);
    h.advance(601'000);  // past MAX_QUEUE_WAIT_TIME
    CHECK(h.all<callback_offered>().empty());
    h.now += 30'000;
    r = h.run(cmd::hold_poll{"CA1"});
    CHECK(r.voice().announce);  // still hears position announcements
    CHECK_FALSE(r.voice().offer_callback);
    // A "1" that arrives anyway: a short Say, the caller keeps waiting.
    r = h.run(cmd::callback_response{"CA1", "1"});
    CHECK(r.voice().what == kind::callback_impossible);
    CHECK(h.last_events.empty());
    CHECK(h.state().find_call("CA1")->phase == call_phase::queued);

    // Failed offers still escalate, but give no callback and no rest: the
    // next ready agent is tried at once.
    h.add_ready_agent("a1");
    for (int i = 0; i < 3; ++i)
      h.run(cmd::dial_result{h.offer_of("CA1"), "no-answer", "in-progress", 0});
    CHECK(h.all<call_escalated>().size() == 1);
    CHECK(h.all<callback_offered>().empty());
    CHECK(h.all<callback_requested>().empty());
    h.heartbeat("a1", "break");
    h.heartbeat("a1", "available");  // back from auto-pause
    CHECK(h.state().find_call("CA1")->phase == call_phase::offered);
  }
}

TEST_CASE("a Voice SDK or SIP caller is queued and connected as usual") {
  for (std::string from : {"client:alice", "sip:bob@example.com"}) {
    center_harness h;
    auto r = h.incoming("CA1", from);
    CHECK(r.voice().what == kind::enqueue);
    h.add_ready_agent("a1");
    CHECK_FALSE(h.run(cmd::agent_leg_status{h.offer_of("CA1"), "in-progress"}).failed());
    CHECK(h.state().find_call("CA1")->phase == call_phase::connected);
  }
}

TEST_CASE("a queue's service level: answered within its threshold over answered plus abandoned after it") {
  center_harness h;
  queue_config config;
  config.service_level_seconds = 10;
  REQUIRE(h.run(cmd::put_queue{"support", to_json(config).dump()}).result == outcome::created);
  h.incoming("CA1");
  h.now += 5'000;
  h.add_ready_agent("alice");
  h.run(cmd::agent_leg_status{h.offer_of("CA1"), "in-progress"});  // answered after 5 s: within
  h.incoming("CA2");
  h.now += 30'000;
  h.run(cmd::call_status{"CA2", "completed"});  // abandoned after 30 s: counts against
  h.incoming("CA3");
  h.now += 3'000;
  h.run(cmd::call_status{"CA3", "completed"});  // abandoned within 10 s: not counted
  h.incoming("CA4");
  h.now += 20'000;
  h.add_ready_agent("bob");
  h.run(cmd::agent_leg_status{h.offer_of("CA4"), "in-progress"});  // answered after 20 s

  auto support = [&] {
    for (auto& q : h.state().status(h.now).queues)
      if (q.name == "support")
        return q;
    FAIL("no support queue");
    return queue_view{};
  };
  auto q = support();
  CHECK(q.today.answered == 2);
  CHECK(q.today.answered_within == 1);
  CHECK(q.today.abandoned == 1);
  CHECK(q.today.ratio() == Approx(1.0 / 3));
  CHECK(q.last_15m.answered == 2);
  auto summary = h.state().summary(h.now);
  CHECK(summary.sl_today.at("support").ratio() == Approx(1.0 / 3));
  CHECK(h.check_invariants().empty());  // replay counts the same
  h.restart();
  CHECK(support().today.answered_within == 1);
  h.now += 16 * 60'000;
  q = support();
  CHECK(q.last_15m.answered == 0);
  CHECK(q.last_15m.ratio() == 1.0);
  CHECK(q.today.answered == 2);
}

TEST_CASE("a linear queue's strategy and a member's penalty decide who is offered the call") {
  center_harness h;
  queue_config linear;
  linear.strategy = routing_strategy::linear;
  REQUIRE(h.run(cmd::put_queue{"support", to_json(linear).dump()}).result == outcome::created);
  h.add_ready_agent("zed");
  cmd::put_agent amy{"amy", "amy", "client-amy", "hash-amy", {"support"}, {}, {{"support", 1}}, {}};
  h.run(amy);
  h.heartbeat("amy", "available", true);
  h.add_ready_agent("kim");
  h.incoming("CA1");
  REQUIRE(h.find_last<call_offered>());
  CHECK(h.find_last<call_offered>()->agent_id == "kim");  // penalty 0, first by id
  h.incoming("CA2");
  CHECK(h.find_last<call_offered>()->agent_id == "zed");
  h.incoming("CA3");
  CHECK(h.find_last<call_offered>()->agent_id == "amy");  // the penalty last
  CHECK(h.state().agents().at("amy").members.at("support").penalty == 1);
  // The configuration is in the log, and a restart runs under it.
  h.restart();
  CHECK(h.state().config_of("support").strategy == routing_strategy::linear);
  CHECK(h.check_invariants().empty());
}

TEST_CASE("a call needing a skill waits for it: an agent given the skill while ready is offered it at once") {
  center_harness h;
  h.add_ready_agent("alice");
  cmd::incoming_call x{"CA1", "+15550000000", "+15559999999", "support", "", std::nullopt};
  x.skills = {{"es", 2}};
  h.run(x);
  REQUIRE(h.find_last<call_requirements_set>());
  CHECK(h.find_last<call_requirements_set>()->require == level_map{{"es", 2}});
  CHECK(h.state().find_call("CA1")->phase == call_phase::queued);  // alice lacks Spanish
  CHECK(h.check_invariants().empty());
  // An operator gives her Spanish at level 3; nothing else about her changes.
  h.run(cmd::put_agent{"alice", "alice", "client-alice", "hash-alice", {"support"}, {"es"}, {}, {{"es", 3}}});
  CHECK(h.state().find_call("CA1")->phase == call_phase::offered);
  CHECK(h.state().find_call("CA1")->routing().agent_id == "alice");
}

TEST_CASE("overflow survives a restart: the timer is rebuilt from the state and the configuration") {
  center_harness h;
  queue_config support;
  support.overflow_after_seconds = 60;
  support.overflow_queue = "sales";
  REQUIRE(h.run(cmd::put_queue{"support", to_json(support).dump()}).result == outcome::created);
  h.incoming("CA1");
  h.advance(30'000);
  h.restart();
  h.advance(29'999);
  CHECK(h.state().find_call("CA1")->queue == "support");
  h.add_ready_agent("sam", {"sales"});  // ready in sales before the call gets there
  h.advance(1);
  REQUIRE(h.all<call_overflowed>().size() == 1);
  auto* c = h.state().find_call("CA1");
  REQUIRE(c);
  CHECK(c->queue == "sales");
  CHECK(c->phase == call_phase::offered);  // sam takes it at once
  CHECK(c->routing().agent_id == "sam");
  CHECK(h.check_invariants().empty());
}

TEST_CASE("a caller waits for their last agent while others are ready, across a restart, then anyone takes the call") {
  center_harness h;
  queue_config support;
  support.prefer_last_agent_seconds = 40;
  REQUIRE(h.run(cmd::put_queue{"support", to_json(support).dump()}).result == outcome::created);
  h.add_ready_agent("ana");
  h.incoming("CA1", "+15550000007");
  std::string offer = h.offer_of("CA1");
  h.run(cmd::agent_leg_status{offer, "in-progress"});
  REQUIRE(h.state().find_call("CA1")->phase == call_phase::connected);
  h.add_ready_agent("bob");
  h.incoming("CA2", "+15550000007");  // ana talks to them right now
  REQUIRE(h.find_last<call_agent_preferred>());
  CHECK(h.find_last<call_agent_preferred>()->agent_id == "ana");
  CHECK(h.state().find_call("CA2")->phase == call_phase::queued);  // not bob's
  h.incoming("CA3", "+15550000008");  // a new caller behind: bob takes it
  CHECK(h.state().find_call("CA3")->routing().agent_id == "bob");
  CHECK(h.check_invariants().empty());
  h.run(cmd::call_status{"CA3", "completed"});  // that caller hangs up: bob is free
  CHECK(h.state().find_call("CA2")->phase == call_phase::queued);  // still ana's
  // A restart keeps the wait (agents not heard from since count as there).
  h.restart();
  h.run(cmd::hold_poll{"CA2"});
  CHECK(h.state().find_call("CA2")->routing().preferred_agent == "ana");
  h.heartbeat("ana", "available", true);
  h.heartbeat("bob", "available", true);
  h.advance(39'000);
  CHECK(h.state().find_call("CA2")->phase == call_phase::queued);
  h.advance(1'000);  // 40 s: anyone
  auto* c = h.state().find_call("CA2");
  REQUIRE(c);
  CHECK(c->phase == call_phase::offered);
  CHECK(c->routing().agent_id == "bob");
  auto prefs = h.all<call_agent_preferred>();
  REQUIRE(prefs.size() == 2);
  CHECK(prefs[1].reason == "timeout");
  CHECK(h.check_invariants().empty());
}

TEST_CASE("ring-all through the actors: every member reserved and rung, one wins, the others are free at once, a no-answer misses each, a restart mid-ring resolves all") {
  center_harness h;
  queue_config team;
  team.strategy = routing_strategy::ring_all;
  team.ring_all_max = 3;
  REQUIRE(h.run(cmd::put_queue{"support", to_json(team).dump()}).result == outcome::created);
  for (const char* id : {"ann", "bob", "cy"})
    h.add_ready_agent(id);
  h.incoming("CA1");
  auto* o = h.find_last<call_offered>();
  REQUIRE(o);
  CHECK(o->agents.size() == 3);
  std::string offer = o->offer_id;
  for (const char* id : {"ann", "bob", "cy"})
    CHECK(h.agent_state(id) == "ringing");
  CHECK(h.check_invariants().empty());

  h.run(cmd::agent_leg_status{offer, "in-progress", "bob"});
  CHECK(h.agent_state("bob") == "on-call");
  CHECK(h.agent_state("ann") == "available");
  CHECK(h.agent_state("cy") == "available");
  CHECK(h.state().find_agent("ann")->missed == 0);
  CHECK(h.check_invariants().empty());

  h.incoming("CA2");
  o = h.find_last<call_offered>();
  REQUIRE(o);
  CHECK(o->agents.size() == 2);  // ann and cy; bob is on a call
  h.run(cmd::dial_result{o->offer_id, "no-answer", "in-progress", 0});
  CHECK(h.state().find_agent("ann")->missed == 1);
  CHECK(h.state().find_agent("cy")->missed == 1);
  CHECK(h.check_invariants().empty());

  // Whatever rings now is resolved by a restart: nobody keeps ringing.
  h.restart();
  for (auto& [id, a] : h.state().agents())
    CHECK(a.offer_id.empty());
  CHECK(h.check_invariants().empty());
}

TEST_CASE("a scheduled callback that came due while callq was down joins the line on start and is offered at once") {
  center_harness h;
  h.run(cmd::schedule_callback{"", "+15557654321", "support", "Ada", h.now + 3'600'000});
  REQUIRE(h.count_last<callback_scheduled>() == 1);
  std::string id = h.find_last<callback_scheduled>()->callback_id;
  // Down from half an hour before its time until an hour after it.
  h.now += 1'800'000;
  h.restart_after(3'600'000);
  // It joins the line at the timer service's first beat after the start,
  // with no time passing.
  h.advance(0);
  auto due = h.all<callback_due>();
  REQUIRE(due.size() == 1);
  CHECK(due[0].callback_id == id);
  auto* c = h.state().find_call(id);
  REQUIRE(c != nullptr);
  CHECK(c->phase == call_phase::callback_waiting);
  // The first ready agent is rung for it.
  h.add_ready_agent("alice");
  REQUIRE(h.find_last<callback_started>());
  CHECK(h.find_last<callback_started>()->callback_id == id);
  CHECK(h.check_invariants().empty());
}

TEST_CASE("a caller whose maximum wait passed while callq was down is offered a callback once at its deadline and not taken for orphaned") {
  center_harness h;
  h.incoming("CA1", "+15557654321");
  REQUIRE(h.state().find_call("CA1")->phase == call_phase::queued);
  // Down for longer than both the maximum wait (10 minutes) and the time
  // after which a caller nobody heard from counts as gone (15 minutes).
  h.restart_after(1'200'000);
  // The restart asked only the calls with something open; the waiting
  // caller's deadline, already past, fires at the first beat.
  h.advance(0);
  auto offered = h.all<callback_offered>();
  REQUIRE(offered.size() == 1);
  CHECK(offered[0].call_sid == "CA1");
  CHECK(offered[0].reason == "max-wait");
  // The restart counted as contact: the cleanup keeps the caller.
  auto r = h.run(cmd::queue_cleanup{});
  REQUIRE(std::holds_alternative<cleanup_answer>(r.body));
  CHECK(std::get<cleanup_answer>(r.body).ids.empty());
  CHECK(h.state().find_call("CA1")->phase == call_phase::queued);
  h.advance(60'000);
  CHECK(h.all<callback_offered>().size() == 1);
  CHECK(h.all<call_abandoned>().empty());
  CHECK(h.check_invariants().empty());
}

TEST_CASE("FEATURE_AGENT_POLLING given as a share is decided per call: the sweep offers a failed call again only on the path that polls") {
  policy p;
  p.feature_multi_agent_fallback = false;  // a failed call is left to the sweep
  p.feature_shares["FEATURE_AGENT_POLLING"] = 50;
  for (bool polled : {true, false}) {
    INFO("polled: " << polled);
    std::string from;
    for (int n = 0; from.empty(); ++n) {
      std::string number = "+1555020" + std::to_string(1000 + n);
      if ((traffic_bucket(number) < 50) == polled)
        from = number;
    }
    center_harness h(p);
    h.add_ready_agent("alice");
    h.incoming("CA1", from);
    REQUIRE(h.find_last<call_arrived>());
    CHECK(h.find_last<call_arrived>()->flags.get("FEATURE_AGENT_POLLING") == (polled ? 1 : 0));
    h.add_ready_agent("bob");
    h.run(cmd::dial_result{h.offer_of("CA1"), "no-answer", "in-progress", 0});
    CHECK(h.count_last<call_offered>() == 0);
    h.run(cmd::sweep{});
    if (polled) {
      REQUIRE(h.find_last<call_offered>());
      CHECK(h.find_last<call_offered>()->agent_id == "bob");
    } else {
      CHECK(h.count_last<call_offered>() == 0);
      CHECK(h.state().find_call("CA1")->phase == call_phase::queued);
    }
    CHECK(h.check_invariants().empty());
  }
}

TEST_CASE("an agent-side flag given as a share is decided per call: a call on the path without the device check goes to an agent whose softphone is not registered, a call on the new path waits") {
  policy p;
  p.feature_shares["FEATURE_DEVICE_CONNECTIVITY"] = 50;
  center_harness h(p);
  std::string on, off;  // a caller on each side of the share
  for (int n = 0; on.empty() || off.empty(); ++n) {
    std::string number = "+1555010" + std::to_string(1000 + n);
    std::string& side = traffic_bucket(number) < 50 ? on : off;
    if (side.empty())
      side = number;
  }
  h.run(cmd::put_agent{"ag1", "ag1", "client-ag1", "hash-ag1", {"support"}, {}, {}, {}});
  h.heartbeat("ag1", "available", false);  // fresh, but its softphone is not registered
  REQUIRE(h.state().find_agent("ag1")->readiness >= p.readiness_threshold);

  h.run(cmd::incoming_call{"CA1", on, "+15559999999", "support", "", std::nullopt});
  REQUIRE(h.find_last<call_arrived>());
  CHECK(h.find_last<call_arrived>()->flags.get("FEATURE_DEVICE_CONNECTIVITY") == 1);
  CHECK(h.state().find_call("CA1")->phase == call_phase::queued);  // nobody passes its check

  h.run(cmd::incoming_call{"CA2", off, "+15559999999", "support", "", std::nullopt});
  REQUIRE(h.find_last<call_arrived>());
  CHECK(h.find_last<call_arrived>()->flags.get("FEATURE_DEVICE_CONNECTIVITY") == 0);
  // The later call goes first: the earlier one's check refuses the agent.
  CHECK(h.state().find_call("CA2")->phase == call_phase::offered);
  CHECK(h.state().find_call("CA2")->routing().agent_id == "ag1");
  CHECK(h.state().find_call("CA1")->phase == call_phase::queued);
  CHECK(h.check_invariants().empty());

  // Once its softphone registers, the agent (free again) takes the first.
  h.run(cmd::call_status{"CA2", "completed"});
  h.heartbeat("ag1", "available", true);
  h.advance(p.wrap_up_ms + 1);
  CHECK(h.state().find_call("CA1")->phase == call_phase::offered);
  CHECK(h.check_invariants().empty());
}

TEST_CASE("passivation: a waiting call idle a while keeps no actor, and whatever comes for it next wakes it with nothing lost") {
  center_harness h;  // CALLQ_PASSIVATE_AFTER's default: 2 s
  h.incoming("CA1");
  h.now += 1;
  h.incoming("CA2");
  REQUIRE(h.rt().actors().passive_calls == 0);
  h.advance(1'000);  // not idle long enough yet
  CHECK(h.rt().actors().passive_calls == 0);
  h.advance(1'500);
  CHECK(h.last_events.empty());  // passivation is no event
  CHECK(h.rt().actors().calls == 2);
  CHECK(h.rt().actors().passive_calls == 2);
  CHECK(h.check_invariants().empty());  // a passivated call's state is the log's
  // A webhook wakes its call, answered as if it had never stopped.
  auto r = h.run(cmd::hold_poll{"CA2"});
  CHECK(r.voice().position == 2);
  CHECK(h.rt().actors().passive_calls == 1);
  // Its deadline wakes a passivated call: the long wait's callback offer.
  h.advance(600'000);
  CHECK(h.count_last<callback_offered>() == 2);
  CHECK(h.rt().actors().passive_calls == 0);
  h.advance(2'500);
  CHECK(h.rt().actors().passive_calls == 2);
  // An agent: the dispatcher wakes the first in line and offers it.
  h.add_ready_agent("alice");
  REQUIRE(h.find_last<call_offered>());
  CHECK(h.find_last<call_offered>()->call_sid == "CA1");
  CHECK(h.rt().actors().passive_calls == 1);
  // An offered call is never passivated, however long its agent takes.
  h.advance(2'500);
  CHECK(h.rt().actors().passive_calls == 1);
  CHECK(h.state().find_call("CA1")->phase == call_phase::offered);
  // The caller hangs up while passivated: woken, recorded, gone.
  h.run(cmd::call_status{"CA2", "completed"});
  CHECK(h.count_last<call_abandoned>() == 1);
  CHECK(h.rt().actors().passive_calls == 0);
  CHECK(h.check_invariants().empty());
  h.restart();
  CHECK(h.check_invariants().empty());
}

TEST_CASE("passivation: a caller waiting for a callback is passivated and woken for its agent") {
  center_harness h;
  h.incoming("CA1");
  h.advance(600'000);
  REQUIRE(h.count_last<callback_offered>() == 1);
  REQUIRE(h.run(cmd::callback_response{"CA1", "1"}).voice().what == kind::callback_confirmed);
  h.run(cmd::queue_left{"CA1", "leave"});
  REQUIRE(h.state().find_call("CA1")->phase == call_phase::callback_waiting);
  h.advance(2'500);
  CHECK(h.rt().actors().passive_calls == 1);
  h.add_ready_agent("alice");
  REQUIRE(h.find_last<callback_started>());
  CHECK(h.rt().actors().passive_calls == 0);
  CHECK(h.check_invariants().empty());
}

TEST_CASE("passivation: a restart starts the calls that only wait passivated, and they are served as before") {
  center_harness h;
  h.incoming("CA1");
  h.now += 1;
  h.incoming("CA2");
  h.restart();
  CHECK(h.rt().actors().calls == 2);
  CHECK(h.rt().actors().passive_calls == 2);  // no actor spawned for either
  CHECK(h.check_invariants().empty());
  CHECK(h.run(cmd::hold_poll{"CA2"}).voice().position == 2);
  CHECK(h.rt().actors().passive_calls == 1);
  h.add_ready_agent("alice");
  REQUIRE(h.find_last<call_offered>());
  CHECK(h.find_last<call_offered>()->call_sid == "CA1");
  CHECK(h.rt().actors().passive_calls == 0);
  CHECK(h.check_invariants().empty());
}
