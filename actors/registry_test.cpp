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
  auto outer = r.find_or_spawn_call("CA1", [&] {
    inner = r.find_or_spawn_call("CA1", [&] {
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
  auto late = r.find_or_spawn_call("CA2", [&] {
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
