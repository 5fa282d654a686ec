// The world's sharing of call states with their actors (world::adopt).
#include "actors/world/world.hpp"

#include <catch2/catch.hpp>

using namespace callq;
using namespace callq::events;

namespace {

const int64_t t0 = 1'795'608'000'000;

event arrived(const std::string& sid) {
  call_arrived a;
  a.call_sid = sid;
  a.from = "+15551230000";
  a.to = "+15559990000";
  a.queue = "support";
  a.order = 1;
  return {t0, a};
}

event enqueued(const std::string& sid) {
  call_enqueued q;
  q.call_sid = sid;
  q.queue = "support";
  q.position = 1;
  return {t0 + 10, q};
}

event abandoned(const std::string& sid) {
  call_abandoned x;
  x.call_sid = sid;
  x.queue = "support";
  x.reason = "hangup";
  x.position = 1;
  x.orig_position = 1;
  x.wait_seconds = 5;
  return {t0 + 5000, x};
}

/// The state a call actor holds after `evs`: the same apply() as the world's.
shared_call_state actor_state(const std::vector<event>& evs) {
  auto s = std::make_shared<call_state>();
  for (auto& e : evs)
    apply(*s, e);
  return s;
}

}  // namespace

TEST_CASE("world: holds a call actor's state at the same version instead of a copy, and never "
          "changes it") {
  world w{policy{}};
  w.apply(1, arrived("CA1"));
  w.apply(2, enqueued("CA1"));
  std::string digest = w.digest();
  auto ahead = actor_state({arrived("CA1"), enqueued("CA1"), abandoned("CA1")});
  w.adopt(ahead);  // the actor is ahead of the log: the world keeps its own
  CHECK(w.find_call("CA1") != ahead.get());
  auto same = actor_state({arrived("CA1"), enqueued("CA1")});
  w.adopt(same);
  CHECK(w.find_call("CA1") == same.get());
  CHECK(w.digest() == digest);  // equal states: nothing the world shows changes
  CHECK(same.use_count() == 2);
  // The world moves on: it copies first, the actor's state stays as it was.
  w.apply(3, abandoned("CA1"));
  CHECK(same->phase == call_phase::queued);
  CHECK(same->version == 2);
  CHECK(same.use_count() == 1);  // finished: the world let go of it
  CHECK(w.find_call("CA1") == nullptr);
  w.adopt(same);  // a finished call is not brought back
  CHECK(w.calls().empty());
}

TEST_CASE("world: a state changes in place only while one holder has it (make_own)") {
  auto s = std::make_shared<call_state>();
  call_state* before = s.get();
  make_own(s);
  CHECK(s.get() == before);  // alone: no copy
  s->sid = "CA1";
  auto other = s;
  make_own(s);
  CHECK(s.get() != before);  // shared: copied, the other holder's unchanged
  s->sid = "CA2";
  CHECK(other->sid == "CA1");
  shared_call_state none;
  make_own(none);
  REQUIRE(none != nullptr);
}
