#include "actors/agent/agent_state.hpp"

#include <catch2/catch.hpp>

#include "tests/fold_history.hpp"

// The agent's fold (apply) and what is read from it, event by event. The
// replay-equality checks cannot see a wrong fold (the server and the
// replay share it); these say what each event does.

using namespace callq;
using namespace callq::events;

namespace {

/// An agent's history (fold_history), with the usual start.
struct history : callq::testing::fold_history<agent_state> {
  /// Created in `queues`, logged in, heartbeating, registered, ready.
  history& ready(string_list queues = {"support"}) {
    on(agent_created{"alice", "Alice", "client-alice", "hash", queues, {}, {}, {}});
    on(agent_status_changed{"alice", "available", "offline", ""});
    on(agent_heartbeat_resumed{"alice"});
    on(agent_device_changed{"alice", true});
    on(agent_readiness_changed{"alice", 100, 0});
    return *this;
  }
};

}  // namespace

TEST_CASE("agent state: a profile change keeps the counts of the queues the agent stays in") {
  history h;
  h.on(agent_created{"alice", "Alice", "client-alice", "hash", {"support", "sales"}, {"fr", "es"},
                     {{"sales", 2}}, {{"es", 7}}});
  int64_t created = h.now;
  CHECK(h.state.idle_since_ms == created);
  CHECK(h.state.members.at("support").penalty == 0);
  CHECK(h.state.members.at("sales").penalty == 2);
  CHECK(h.state.members.at("support").joined_ms == created);
  CHECK(h.state.skill_levels.at("fr") == 1);  // a skill without a level: 1
  CHECK(h.state.skill_levels.at("es") == 7);
  h.on(agent_status_changed{"alice", "available", "offline", ""});
  h.on(agent_offer_received{"alice", "OF1", "CA1", "support"});
  h.on(agent_offer_answered{"alice", "OF1", "CA1"});
  h.on(agent_offer_ended{"alice", "OF1", "CA1", "completed", false}, 90'000);
  CHECK(h.state.on_call.empty());  // the call it talked on is over
  CHECK(h.state.members.at("support").answered == 1);
  CHECK(h.state.members.at("support").talk_ms == 90'000);
  h.on(agent_updated{"alice", "Alice", "client-alice", {"support", "billing"}, {}, {{"billing", 1}}, {}});
  const membership& stays = h.state.members.at("support");
  CHECK(stays.answered == 1);
  CHECK(stays.talk_ms == 90'000);
  CHECK(stays.joined_ms == created);
  CHECK(h.state.members.at("billing").joined_ms == h.now);
  CHECK(h.state.members.at("billing").penalty == 1);
  CHECK(h.state.members.count("sales") == 0);
}

TEST_CASE("agent state: missed offers in a row end with an answered one") {
  history h;
  h.ready();
  h.on(agent_offer_received{"alice", "OF1", "CA1", "support"});
  h.on(agent_offer_ended{"alice", "OF1", "CA1", "no-answer", true});
  CHECK(h.state.missed == 1);
  h.on(agent_offer_received{"alice", "OF2", "CA2", "support"});
  h.on(agent_offer_answered{"alice", "OF2", "CA2"});
  CHECK(h.state.missed == 0);
}

TEST_CASE("agent state: logged in since its first status not offline, idle since it became available") {
  history h;
  h.on(agent_created{"alice", "Alice", "client-alice", "hash", {"support"}, {}, {}, {}});
  h.on(agent_status_changed{"alice", "busy", "offline", ""});
  int64_t logged_in = h.now;
  CHECK(h.state.logged_in_ms == logged_in);
  h.on(agent_status_changed{"alice", "available", "busy", ""});
  int64_t available = h.now;
  CHECK(h.state.logged_in_ms == logged_in);
  CHECK(h.state.idle_since_ms == available);
  h.on(agent_status_changed{"alice", "available", "available", ""});  // said again
  CHECK(h.state.idle_since_ms == available);
  h.on(agent_status_changed{"alice", "break", "available", "lunch"});
  CHECK(h.state.break_reason == "lunch");
  h.on(agent_status_changed{"alice", "available", "break", "back"});
  CHECK(h.state.break_reason.empty());  // a reason is a break's only
  h.on(agent_offer_received{"alice", "OF1", "CA1", "support"});
  h.on(agent_offer_answered{"alice", "OF1", "CA1"});
  h.on(agent_wrap_up_started{"alice", "CA1", h.now + 30'000});
  h.on(agent_wrap_up_ended{"alice"}, 30'000);
  CHECK(h.state.idle_since_ms == h.now);
}

TEST_CASE("agent state: a resumed heartbeat clears the expiry, a wrap-up for the ringing call its offer") {
  history h;
  h.ready();
  h.on(agent_heartbeat_expired{"alice", "timeout", 90});
  policy p;
  CHECK(visible_state(h.state, p) == "stale");
  h.on(agent_heartbeat_resumed{"alice"});
  CHECK_FALSE(h.state.expired);
  CHECK(visible_state(h.state, p) == "available");
  h.on(agent_offer_received{"alice", "OF1", "CA1", "support"});
  h.on(agent_wrap_up_started{"alice", "CA1", h.now + 30'000});
  CHECK(h.state.offer_id.empty());
  CHECK(h.state.offer_call.empty());
}

TEST_CASE("agent state: what the agent shows and whether it counts as staffed, by flags") {
  history h;
  h.ready();
  policy p;
  h.on(agent_heartbeat_expired{"alice", "timeout", 90});
  CHECK(visible_state(h.state, p) == "stale");
  CHECK_FALSE(is_staffed(h.state, p));
  p.feature_agent_heartbeat = false;  // heartbeats not required: no expiry shown
  CHECK(visible_state(h.state, p) == "available");
  CHECK(is_staffed(h.state, p));
  h.on(agent_heartbeat_resumed{"alice"});
  h.on(agent_device_changed{"alice", false});
  p = policy{};
  CHECK(visible_state(h.state, p) == "unregistered");
  p.feature_device_connectivity = false;
  CHECK(visible_state(h.state, p) == "available");
  h.on(agent_status_changed{"alice", "busy", "available", ""});
  CHECK(is_staffed(h.state, p));  // logged in but not taking calls counts
  h.on(agent_status_changed{"alice", "break", "busy", ""});
  CHECK_FALSE(is_staffed(h.state, p));
}

TEST_CASE("agent state: an agent in wrap-up is offered nothing") {
  history h;
  h.ready();
  policy p;
  REQUIRE(is_eligible(h.state, p));
  h.on(agent_wrap_up_started{"alice", "CA0", h.now + 30'000});
  CHECK_FALSE(is_eligible(h.state, p));
  h.on(agent_wrap_up_ended{"alice"});
  CHECK(is_eligible(h.state, p));
}

TEST_CASE("agent state: readiness score, each deduction at its bound") {
  history h;
  h.ready();
  policy p;
  int64_t now = h.now + 1000;
  CHECK(readiness_score(h.state, p, now, now) == 100);
  // A heartbeat long overdue costs 40 at most.
  CHECK(readiness_score(h.state, p, now, now - 10 * p.heartbeat_timeout_ms) == 60);
  // Half-way from the interval to the timeout: 20.
  CHECK(readiness_score(h.state, p, now,
                        now - (p.heartbeat_interval_ms + p.heartbeat_timeout_ms) / 2) == 80);
  agent_state unregistered = h.state;
  unregistered.device = false;
  CHECK(readiness_score(unregistered, p, now, now) == 50);
  agent_state missing = h.state;
  missing.missed = 4;  // 20 a missed offer, three at most
  CHECK(readiness_score(missing, p, now, now) == 40);
  missing.missed = 2;
  CHECK(readiness_score(missing, p, now, now) == 60);
  // Idle over 30 minutes (a forgotten headset?): 10; not while on a call.
  int64_t idle = h.state.idle_since_ms;
  CHECK(readiness_score(h.state, p, idle + 30 * 60'000, idle + 30 * 60'000) == 100);
  CHECK(readiness_score(h.state, p, idle + 30 * 60'000 + 1, idle + 30 * 60'000 + 1) == 90);
  agent_state talking = h.state;
  talking.on_call = "CA1";
  CHECK(readiness_score(talking, p, idle + 31 * 60'000, idle + 31 * 60'000) == 100);
  agent_state ringing = h.state;
  ringing.offer_id = "OF1";
  CHECK(readiness_score(ringing, p, idle + 31 * 60'000, idle + 31 * 60'000) == 100);
}
