#include "actors/agent/agent_logic.hpp"

#include <catch2/catch.hpp>

#include "tests/event_counts.hpp"

using namespace callq;
using namespace callq::events;

namespace {

struct agent_fixture {
  policy rules;
  agent_state a;
  int64_t now = 1'795'608'000'000;
  agent_decision last;

  reply run(const agent_command& x) {
    last = decide(a, x, rules, now);
    return last.answer;
  }
  void ready() {
    run(cmd::put_agent{"alice", "Alice", "client-alice", "hash", {"support"}, {}, {}, {}});
    run(cmd::heartbeat{"alice", "hash", "available", true});
  }
  template <class T> int count() const { return callq::testing::count_of<T>(last.events); }
  /// Ready, then offered CA1 (OF1), answered and hung up: in wrap-up.
  void talked() {
    ready();
    run(cmd::reserve{1, "OF1", "CA1", "support"});
    run(cmd::confirm_reservation{1});
    run(cmd::offer_update{{offer_notice::kind::answered, "alice", "OF1", "CA1", "", false}});
    run(cmd::offer_update{{offer_notice::kind::finished, "alice", "OF1", "CA1", "", false}});
  }
};

}  // namespace

TEST_CASE("agent: created, heartbeat makes it eligible, a wrong token changes nothing") {
  agent_fixture f;
  auto r = f.run(cmd::put_agent{"alice", "Alice", "client-alice", "hash", {"support"}, {}, {}, {}});
  CHECK(r.result == outcome::created);
  CHECK_FALSE(view_of(f.a, f.rules).eligible);
  r = f.run(cmd::heartbeat{"alice", "wrong", "available", true});
  CHECK(r.result == outcome::unauthorized);
  CHECK(f.last.events.empty());
  r = f.run(cmd::heartbeat{"alice", "hash", "available", true});
  REQUIRE(std::holds_alternative<agent_answer>(r.body));
  CHECK(std::get<agent_answer>(r.body).state == "available");
  CHECK(std::get<agent_answer>(r.body).readiness == 100);
  CHECK(view_of(f.a, f.rules).eligible);
  agent_state replayed;
  for (auto& e : f.last.events)
    apply(replayed, e);
  CHECK(f.a.readiness == 100);
}

TEST_CASE("agent: a reservation matched under skills the agent no longer has is refused") {
  agent_fixture f;
  f.run(cmd::put_agent{"alice", "Alice", "client-alice", "hash", {"support"}, {"fr"}, {}, {{"fr", 9}}});
  f.run(cmd::heartbeat{"alice", "hash", "available", true});
  // Matched when she still had Spanish: her profile changed meanwhile.
  auto r = f.run(cmd::reserve{1, "OF1", "CA1", "support", -1, {{"es", 1}}});
  CHECK(r.result == outcome::conflict);
  CHECK(f.last.events.empty());
  CHECK(f.a.reservation == 0);
  CHECK(view_of(f.a, f.rules).eligible);
  r = f.run(cmd::reserve{2, "OF2", "CA2", "support", -1, {{"fr", 5}}});
  CHECK_FALSE(r.failed());
  CHECK(f.count<agent_offer_received>() == 1);
}

TEST_CASE("agent: a reservation matched in a queue the agent has left is refused") {
  agent_fixture f;
  f.run(cmd::put_agent{"alice", "Alice", "client-alice", "hash", {"support", "sales"}, {}, {}, {}});
  f.run(cmd::heartbeat{"alice", "hash", "available", true});
  // Matched as a member of sales: her profile dropped sales meanwhile.
  f.run(cmd::put_agent{"alice", "Alice", "client-alice", "hash", {"support"}, {}, {}, {}});
  auto r = f.run(cmd::reserve{1, "OF1", "CA1", "sales"});
  CHECK(r.result == outcome::conflict);
  CHECK(f.last.events.empty());
  CHECK(f.a.reservation == 0);
  CHECK(view_of(f.a, f.rules).eligible);
  r = f.run(cmd::reserve{2, "OF2", "CA2", "support"});
  CHECK_FALSE(r.failed());
  CHECK(f.count<agent_offer_received>() == 1);
}

TEST_CASE("agent: a reservation rings the phone and ends by confirm, release or timeout") {
  agent_fixture f;
  f.ready();
  auto r = f.run(cmd::reserve{1, "OF1", "CA1", "support"});
  CHECK_FALSE(r.failed());
  CHECK(f.count<agent_offer_received>() == 1);
  CHECK_FALSE(view_of(f.a, f.rules).eligible);
  // Never two at once.
  CHECK(f.run(cmd::reserve{2, "OF2", "CA2", "support"}).result == outcome::conflict);
  f.run(cmd::confirm_reservation{1});
  CHECK(f.a.reservation == 0);
  CHECK(f.a.offer_id == "OF1");

  agent_fixture g;
  g.ready();
  g.run(cmd::reserve{1, "OF1", "CA1", "support"});
  g.run(cmd::release_reservation{1, "call-gone"});
  CHECK(g.count<agent_offer_ended>() == 1);
  CHECK(g.a.offer_id.empty());
  CHECK(g.a.missed == 0);
  CHECK(view_of(g.a, g.rules).eligible);

  agent_fixture t;
  t.ready();
  t.run(cmd::reserve{1, "OF1", "CA1", "support"});
  CHECK(next_deadline(t.a, t.rules) == t.now + t.rules.reservation_timeout_ms);
  t.now += t.rules.reservation_timeout_ms;
  t.run(cmd::tick{});
  REQUIRE(t.count<agent_offer_ended>() == 1);
  CHECK(std::get<agent_offer_ended>(t.last.events[0].body).reason == "reservation-timeout");
  CHECK(t.a.reservation == 0);
}

TEST_CASE("agent: three missed offers pause it, a non-available status then available resumes") {
  agent_fixture f;
  f.ready();
  for (int i = 1; i <= 3; ++i) {
    std::string offer = "OF" + std::to_string(i);
    f.run(cmd::reserve{static_cast<uint64_t>(i), offer, "CA1", "support"});
    f.run(cmd::confirm_reservation{static_cast<uint64_t>(i)});
    f.run(cmd::offer_update{{offer_notice::kind::ended, "alice", offer, "CA1", "no-answer", true}});
  }
  CHECK(f.a.paused);
  CHECK(f.a.pause_reason == "auto-pause");
  CHECK(visible_state(f.a, f.rules) == "break");
  f.run(cmd::heartbeat{"alice", "hash", "available", true});
  CHECK(f.a.paused);
  f.run(cmd::heartbeat{"alice", "hash", "break", true});
  f.run(cmd::heartbeat{"alice", "hash", "available", true});
  CHECK_FALSE(f.a.paused);
  CHECK(view_of(f.a, f.rules).eligible);
}

TEST_CASE("agent: a finished call starts wrap-up, which ends at its time") {
  agent_fixture f;
  f.ready();
  f.run(cmd::reserve{1, "OF1", "CA1", "support"});
  f.run(cmd::confirm_reservation{1});
  f.run(cmd::offer_update{{offer_notice::kind::answered, "alice", "OF1", "CA1", "", false}});
  CHECK(visible_state(f.a, f.rules) == "on-call");
  f.run(cmd::offer_update{{offer_notice::kind::finished, "alice", "OF1", "CA1", "", false}});
  CHECK(visible_state(f.a, f.rules) == "wrap-up");
  f.now += 14'999;
  f.run(cmd::tick{});
  CHECK(f.a.in_wrap_up);
  f.now += 1;
  f.run(cmd::tick{});
  CHECK_FALSE(f.a.in_wrap_up);
}

TEST_CASE("agent: a break's reason is recorded, and a new reason is recorded again") {
  agent_fixture f;
  f.ready();
  cmd::heartbeat lunch{"alice", "hash", "break", true, "lunch"};
  f.run(lunch);
  REQUIRE(f.count<agent_status_changed>() == 1);
  CHECK(f.a.break_reason == "lunch");
  f.run(lunch);  // the same: nothing new
  CHECK(f.count<agent_status_changed>() == 0);
  f.run(cmd::heartbeat{"alice", "hash", "break", true, "training"});
  CHECK(f.count<agent_status_changed>() == 1);
  CHECK(f.a.break_reason == "training");
  f.run(cmd::heartbeat{"alice", "hash", "available", true, "lunch"});  // no break, no reason
  CHECK(f.a.break_reason.empty());
  agent_state replayed;  // the reason comes from the events alone
  f.run(cmd::heartbeat{"alice", "hash", "break", true, "meeting"});
  for (auto& e : f.last.events)
    apply(replayed, e);
  CHECK(replayed.break_reason == "meeting");
}

TEST_CASE("agent: wrap-up records the last call's disposition once, and ready ends wrap-up") {
  agent_fixture f;
  f.talked();
  REQUIRE(f.a.in_wrap_up);
  std::vector<std::string> asked{"resolved", "follow-up"};
  CHECK(f.run(cmd::wrap_up{"alice", "wrong", "CA1", "resolved", "", false, asked}).result ==
        outcome::unauthorized);
  CHECK(f.run(cmd::wrap_up{"alice", "hash", "CA2", "resolved", "", false, asked}).result ==
        outcome::forbidden);
  CHECK(f.run(cmd::wrap_up{"alice", "hash", "CA1", "", "", true, asked}).result == outcome::invalid);
  CHECK(f.run(cmd::wrap_up{"alice", "hash", "CA1", "solved", "", true, asked}).result ==
        outcome::invalid);
  CHECK(f.a.in_wrap_up);  // nothing changed by the refusals
  auto r = f.run(cmd::wrap_up{"alice", "hash", "CA1", "follow-up", "call back Monday", false, asked});
  CHECK_FALSE(r.failed());
  REQUIRE(f.count<agent_wrap_up_recorded>() == 1);
  auto& rec = std::get<agent_wrap_up_recorded>(f.last.events[0].body);
  CHECK(rec.queue == "support");
  CHECK(rec.disposition == "follow-up");
  CHECK(rec.notes == "call back Monday");
  CHECK(f.a.in_wrap_up);  // not ready yet
  CHECK(f.run(cmd::wrap_up{"alice", "hash", "CA1", "resolved", "", false, asked}).result ==
        outcome::conflict);
  r = f.run(cmd::wrap_up{"alice", "hash", "CA1", "", "", true, asked});  // Ready
  CHECK_FALSE(r.failed());
  CHECK(f.count<agent_wrap_up_ended>() == 1);
  CHECK_FALSE(f.a.in_wrap_up);
  CHECK(view_of(f.a, f.rules).eligible);
}

TEST_CASE("agent: a queue without dispositions takes notes only") {
  agent_fixture f;
  f.talked();
  CHECK(f.run(cmd::wrap_up{"alice", "hash", "CA1", "resolved", "", false, {}}).result ==
        outcome::invalid);
  CHECK_FALSE(f.run(cmd::wrap_up{"alice", "hash", "CA1", "", "<b>VIP</b>", true, {}}).failed());
  CHECK(f.count<agent_wrap_up_recorded>() == 1);
  CHECK(f.count<agent_wrap_up_ended>() == 1);
}

TEST_CASE("agent: removing a ringing agent rescinds its offer on the call side") {
  agent_fixture f;
  f.ready();
  f.run(cmd::reserve{1, "OF1", "CA1", "support"});
  f.run(cmd::confirm_reservation{1});
  f.run(cmd::delete_agent{"alice"});
  REQUIRE(f.last.rescinds.size() == 1);
  CHECK(f.last.rescinds[0].first == "CA1");
  CHECK(f.last.rescinds[0].second.offer_id == "OF1");
  CHECK(f.a.removed);
  CHECK(f.run(cmd::heartbeat{"alice", "hash", "available", true}).result == outcome::not_found);
}

TEST_CASE("agent: no heartbeat expiry while heartbeats wait to be handled") {
  agent_fixture f;
  f.ready();
  f.now += f.rules.heartbeat_timeout_ms + 1'000;
  // callq is behind: heartbeats wait for a thread, this agent's among them.
  f.last = decide(f.a, cmd::tick{}, f.rules, f.now, /*heartbeats_waiting=*/true);
  CHECK(f.count<agent_heartbeat_expired>() == 0);
  CHECK(view_of(f.a, f.rules).eligible);
  // The waiting heartbeat was not this agent's: once none waits, it expires.
  f.now += 100;
  f.run(cmd::tick{});
  CHECK(f.count<agent_heartbeat_expired>() == 1);
  CHECK_FALSE(view_of(f.a, f.rules).eligible);
}

TEST_CASE("agent: a heartbeat's age lowers no readiness while heartbeats wait to be handled") {
  agent_fixture f;
  f.ready();
  REQUIRE(f.a.readiness == 100);
  // callq is behind: this agent's heartbeat may be among those waiting.
  auto behind = [&f](const agent_command& c) {
    f.last = decide(f.a, c, f.rules, f.now, /*heartbeats_waiting=*/true);
  };
  // A quarter of the way from the interval to the timeout: 10 points.
  int64_t span = f.rules.heartbeat_timeout_ms - f.rules.heartbeat_interval_ms;
  f.now += f.rules.heartbeat_interval_ms + span / 4;
  behind(cmd::tick{});
  CHECK(f.count<agent_readiness_changed>() == 0);
  CHECK(f.a.readiness == 100);
  // A missed offer still counts while heartbeats wait: 20 points, not 30.
  behind(cmd::reserve{1, "OF1", "CA1", "support"});
  behind(cmd::confirm_reservation{1});
  CHECK(f.a.readiness == 100);
  behind(cmd::offer_update{{offer_notice::kind::ended, "alice", "OF1", "CA1", "no-answer", true}});
  CHECK(f.count<agent_readiness_changed>() == 1);
  CHECK(f.a.readiness == 80);
  // Once no heartbeat waits, the age counts.
  f.run(cmd::tick{});
  CHECK(f.count<agent_readiness_changed>() == 1);
  CHECK(f.a.readiness == 70);
  // Later, behind again: the age lowers nothing more, and what it already
  // took is not given back without a heartbeat (as if one had come now,
  // it would be 80).
  f.now += span / 4;
  behind(cmd::tick{});
  CHECK(f.count<agent_readiness_changed>() == 0);
  CHECK(f.a.readiness == 70);
}

TEST_CASE("agent: no heartbeat for exactly the timeout expires it, a millisecond less does not") {
  agent_fixture f;
  f.ready();
  f.now += f.rules.heartbeat_timeout_ms - 1;
  f.run(cmd::tick{});
  CHECK(f.count<agent_heartbeat_expired>() == 0);
  CHECK(view_of(f.a, f.rules).eligible);
  f.now += 1;
  f.run(cmd::tick{});
  CHECK(f.count<agent_heartbeat_expired>() == 1);
  CHECK_FALSE(view_of(f.a, f.rules).eligible);
}

TEST_CASE("agent: a confirm arriving after the reservation's time is taken (the call has the offer)") {
  // The call took the offer in time; its confirm comes back late, after
  // the agent's deadline has passed but before any timer ran for it. The
  // agent must not time the reservation out first: its phone rings for a
  // call that counts it as its agent.
  agent_fixture f;
  f.ready();
  f.run(cmd::reserve{1, "OF1", "CA1", "support"});
  f.now += f.rules.reservation_timeout_ms + 1'000;
  f.run(cmd::confirm_reservation{1});
  CHECK(f.count<agent_offer_ended>() == 0);
  CHECK(f.a.reservation == 0);
  CHECK(f.a.offer_id == "OF1");
  CHECK(f.a.offer_call == "CA1");
  // A later tick leaves the offer alone: the call reports its outcome.
  f.now += 1'000;
  f.run(cmd::tick{});
  CHECK(f.count<agent_offer_ended>() == 0);
  CHECK(f.a.offer_id == "OF1");
  CHECK_FALSE(view_of(f.a, f.rules).eligible);

  // A late release ends it with the call side's reason, not a timeout.
  agent_fixture g;
  g.ready();
  g.run(cmd::reserve{1, "OF1", "CA1", "support"});
  g.now += g.rules.reservation_timeout_ms + 1'000;
  g.run(cmd::release_reservation{1, "call-gone"});
  REQUIRE(g.count<agent_offer_ended>() == 1);
  CHECK(std::get<agent_offer_ended>(g.last.events[0].body).reason == "call-gone");
}
