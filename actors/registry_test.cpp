// The registry's check-then-spawn: one actor per call whatever runs
// between a request's lookup and its spawn.
#include "actors/registry.hpp"

#include <caf/all.hpp>
#include <catch2/catch.hpp>

using namespace callq;

namespace {

caf::behavior idle_actor() {
  return {[](int) {}};
}

}  // namespace

TEST_CASE("registry: two requests spawning one new call get one actor, and the loser's never joins") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  registry r;
  caf::actor second;
  registry::call_found inner;
  // The first request spawns outside the lock; meanwhile (inside its
  // spawn) a second request for the same call spawns and gets in first.
  auto outer = r.find_or_spawn_call("CA1", [&](const call_sid&) {
    inner = r.find_or_spawn_call("CA1", [&](const call_sid&) {
      second = sys.spawn(idle_actor);
      return second;
    });
    return sys.spawn(idle_actor);
  });
  CHECK(inner.spawned);
  CHECK(inner.actor == second);
  CHECK_FALSE(outer.spawned);
  CHECK(outer.actor == second);  // the first request answers with the winner's actor
  CHECK(r.call("CA1") == second);
  CHECK(r.live_calls() == 1);
  // A call that finished while a request was spawning is never spawned again.
  auto c = std::make_shared<call_state>();
  c->sid = "CA2";
  c->phase = call_phase::abandoned;
  auto late = r.find_or_spawn_call("CA2", [&](const call_sid&) {
    r.finish_call(c);  // the call ended between the lookup and the spawn
    return sys.spawn(idle_actor);
  });
  CHECK(late.finished);
  CHECK_FALSE(late.actor);
  CHECK_FALSE(r.call("CA2"));
  caf::anon_send_exit(second, caf::exit_reason::user_shutdown);
}

TEST_CASE("registry: calls spread over stripes are all listed, counted and purged") {
  registry r;
  for (int i = 0; i < 100; ++i) {
    auto c = std::make_shared<call_state>();
    c->sid = "CA" + std::to_string(i);
    c->ended_ms = i;
    r.finish_call(c);
  }
  CHECK(r.finished_calls() == 100);
  CHECK(r.purge_finished(49) == 50);  // those that ended at or before 49
  CHECK(r.finished_calls() == 50);
  CHECK_FALSE(r.is_finished("CA49"));
  CHECK(r.is_finished("CA50"));
  CHECK(r.purge_finished(-1, 16) >= 34);  // at most 16 kept in all (one per stripe)
  CHECK(r.finished_calls() <= 16);
}

TEST_CASE("registry: a passivated call is its state alone until a lookup wakes it once, and only its own actor can passivate it") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  registry r;
  std::vector<std::pair<shared_call_state, int64_t>> woken;
  std::vector<call_sid> woken_as;
  std::vector<caf::actor> made;
  r.set_waker([&](const call_sid& sid, shared_call_state s, int64_t due) {
    woken.emplace_back(s, due);
    woken_as.push_back(sid);
    made.push_back(sys.spawn(idle_actor));
    return made.back();
  });
  bool spawned = false;
  call_sid spawned_as;
  auto first = r.call_or_spawn(
      "CA1",
      [&](const call_sid& sid) {
        spawned_as = sid;
        return sys.spawn(idle_actor);
      },
      &spawned);
  REQUIRE(spawned);
  // The actor is handed the registry's own copy of the CallSid.
  CHECK(spawned_as == "CA1");
  CHECK(r.sid_of("CA1").view().data() == spawned_as.view().data());
  CHECK(r.sid_of("CA9").empty());
  auto state = std::make_shared<call_state>();
  state->sid = "CA1";
  state->phase = call_phase::queued;
  // Not its actor: nothing changes.
  auto stranger = sys.spawn(idle_actor);
  CHECK_FALSE(r.passivate("CA1", stranger, state, 42));
  CHECK(r.passive_calls() == 0);
  REQUIRE(r.passivate("CA1", first, state, 42));
  CHECK(r.passive_calls() == 1);
  CHECK(r.live_calls() == 1);  // still an open call
  CHECK(r.has_call("CA1"));
  CHECK_FALSE(r.running_call("CA1"));  // never wakes
  CHECK(r.all_calls().empty());
  REQUIRE(r.passive_states().size() == 1);
  CHECK(r.passive_states()[0] == state);
  CHECK(woken.empty());
  // The first lookup wakes it from its state and deadline; later ones
  // find that actor.
  auto a = r.call("CA1");
  REQUIRE(woken.size() == 1);
  CHECK(woken[0].first == state);  // shared, not copied
  CHECK(woken[0].second == 42);
  // Woken with the same copy of its CallSid it was spawned with.
  REQUIRE(woken_as.size() == 1);
  CHECK(woken_as[0].view().data() == spawned_as.view().data());
  CHECK(a == made[0]);
  CHECK(r.call("CA1") == a);
  CHECK(r.running_call("CA1") == a);
  CHECK(r.passive_calls() == 0);
  // The old actor cannot passivate the call again; the new one can.
  CHECK_FALSE(r.passivate("CA1", first, state, 0));
  REQUIRE(r.passivate("CA1", a, state, 0));
  auto all = r.wake_all_calls();
  REQUIRE(all.size() == 1);
  CHECK(all[0] == made[1]);
  CHECK(woken.size() == 2);
  // A finished call is neither found nor woken.
  r.finish_call(state);
  CHECK_FALSE(r.call("CA1"));
  CHECK_FALSE(r.has_call("CA1"));
  CHECK(woken.size() == 2);
  for (auto& x : made)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(first, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(stranger, caf::exit_reason::user_shutdown);
}
