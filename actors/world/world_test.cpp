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

TEST_CASE("world: takes a settled state at the event that brings its call to that version "
          "and shows what applying the events shows") {
  world plain{policy{}};
  plain.apply(1, arrived("CA1"));
  plain.apply(2, enqueued("CA1"));
  plain.apply(3, arrived("CA2"));
  plain.apply(4, enqueued("CA2"));

  world w{policy{}};
  auto first = actor_state({arrived("CA1"), enqueued("CA1")});
  auto second = actor_state({arrived("CA2")});  // the actor's state after its first event only
  std::vector<shared_call_state> states{first, second};
  settled_calls settled(states);
  w.apply(1, arrived("CA1"), settled);
  const call_state* own = w.find_call("CA1");
  CHECK(own != first.get());  // version 1 of 2: the world applies the event itself
  w.apply(2, enqueued("CA1"), settled);
  CHECK(w.find_call("CA1") == first.get());  // version 2: the actor's state, no copy
  CHECK(first->version == 2);
  w.apply(3, arrived("CA2"), settled);
  CHECK(w.find_call("CA2") == second.get());  // a new call, taken from its first event
  w.apply(4, enqueued("CA2"), settled);
  CHECK(w.find_call("CA2") != second.get());  // the world moves on: it copies first
  CHECK(second->version == 1);
  CHECK(second->phase != call_phase::queued);
  CHECK(w.digest() == plain.digest());  // positions and lines equal too
  CHECK(w.waiting("support") == 2);

  // A state the event does not bring its call to is never taken.
  world x{policy{}};
  std::vector<shared_call_state> ahead{actor_state({arrived("CA3"), enqueued("CA3")})};
  x.apply(1, arrived("CA3"), settled_calls(ahead));
  CHECK(x.find_call("CA3") != ahead[0].get());
  CHECK(x.find_call("CA3")->version == 1);
}

TEST_CASE("world: finds settled states by CallSid in small and large batches") {
  std::vector<shared_call_state> states;
  for (int i = 0; i < 40; ++i)
    states.push_back(actor_state({arrived("CA" + std::to_string(i))}));
  std::vector<shared_call_state> few(states.begin(), states.begin() + 3);
  settled_calls small(few), large(states);
  CHECK(small.find("CA2") == &few[2]);
  CHECK(small.find("CA3") == nullptr);
  CHECK(large.find("CA39") == &states[39]);
  CHECK(large.find("CA40") == nullptr);
  CHECK(settled_calls{}.find("CA1") == nullptr);
  // Two appends of one call in a batch: the later state, in both kinds.
  few.push_back(actor_state({arrived("CA1"), enqueued("CA1")}));
  states.push_back(few.back());
  CHECK(settled_calls(few).find("CA1") == &few[3]);
  CHECK(settled_calls(states).find("CA1") == &states[40]);
}

TEST_CASE("world: a state changes in place only while one holder has it (make_own)") {
  auto s = std::make_shared<call_state>();
  call_state* before = s.get();
  make_own(s);
  CHECK(s.get() == before);  // alone: no copy
  s->sid = "CA1";
  auto other = s;
  CHECK(make_own(s) == other);  // shared: copied, and the state let go of returned
  CHECK(s.get() != before);     // the other holder's unchanged
  s->sid = "CA2";
  CHECK(other->sid == "CA1");
  shared_call_state none;
  make_own(none);
  REQUIRE(none != nullptr);
}

namespace {

/// A call from `number` connected to `agent` at `at`, then completed.
void talked(world& w, uint64_t& seq, const std::string& sid, const std::string& number,
            const std::string& agent, int64_t at) {
  event a = arrived(sid);
  std::get<call_arrived>(a.body).from = number;
  a.ts_ms = at;
  w.apply(seq++, a);
  call_connected c;
  c.call_sid = sid;
  c.agent_id = agent;
  w.apply(seq++, {at + 1000, c});
  call_completed done;
  done.call_sid = sid;
  done.agent_id = agent;
  w.apply(seq++, {at + 60'000, done});
}

}  // namespace

TEST_CASE("world: a caller's last agent and history are kept 30 days with one expiry entry per "
          "number, however often it calls") {
  world w{policy{}};
  uint64_t seq = 1;
  for (int i = 0; i < 200; ++i)
    talked(w, seq, "CA" + std::to_string(i), "+15550000001", "alice", t0 + i * 120'000LL);
  talked(w, seq, "CB1", "+15550000002", "bob", t0);
  CHECK(w.expiry_entries() == 4);  // two numbers, each in both lists
  CHECK(w.history_of("+15550000001").size() == world::history_size);
  CHECK(w.history_of("+15550000001").front().call_sid == "CA199");
  CHECK(w.last_agent_of("+15550000001", t0 + 400'000'000LL) == "alice");
  CHECK(w.last_agent_of("+15550000002", t0 + 400'000'000LL) == "bob");

  // 30 days after +15550000002's call, and before +15550000001's last one
  // is that old: only the first number is forgotten.
  int64_t later = t0 + world::last_agent_keep_ms + 10'000'000LL;
  talked(w, seq, "CC1", "+15550000003", "carol", later);
  CHECK(w.history_of("+15550000002").empty());
  CHECK(w.last_agent_of("+15550000002", later + 61'000) == "");
  CHECK(w.history_of("+15550000001").size() == world::history_size);
  CHECK(w.expiry_entries() == 4);

  // A snapshot's world rebuilds the same expiry, one entry per number.
  world back = world::from_image(policy{}, w.image());
  CHECK(back.expiry_entries() == 4);
  CHECK(back.digest() == w.digest());

  // Past 30 days after every call of +15550000001, it goes too.
  talked(w, seq, "CC2", "+15550000003", "carol", t0 + world::last_agent_keep_ms + 30'000'000LL);
  CHECK(w.history_of("+15550000001").empty());
  CHECK(w.expiry_entries() == 2);
}

namespace {

/// Call `sid` (arrival number `order`) arrives and enters support's line
/// at `at` with `priority`.
void queued(world& w, uint64_t& seq, const std::string& sid, uint64_t order, int64_t at,
            int64_t priority = 0) {
  event a = arrived(sid);
  std::get<call_arrived>(a.body).order = static_cast<int64_t>(order);
  std::get<call_arrived>(a.body).priority = priority;
  a.ts_ms = at;
  w.apply(seq++, a);
  event q = enqueued(sid);
  std::get<call_enqueued>(q.body).priority = priority;
  q.ts_ms = at;
  w.apply(seq++, q);
}

/// The CallSids support's line lists, in dispatch order.
std::vector<std::string> line_of(const world& w) {
  std::vector<std::string> sids;
  for (auto& q : w.status(t0 + 60'000).queues)
    if (q.name == "support")
      for (auto& c : q.waiting)
        sids.push_back(c.call_sid);
  return sids;
}

int64_t longest_wait(const world& w) {
  return w.summary(t0 + 60'000).longest_wait_seconds.at("support");
}

}  // namespace

TEST_CASE("world: a line keeps its calls' order, places and longest wait through copies, "
          "adopted states and departures") {
  world w{policy{}};
  uint64_t seq = 1;
  queued(w, seq, "CA1", 1, t0);             // waits longest
  queued(w, seq, "CA2", 2, t0 + 20'000, 5);  // a higher priority: first in line
  queued(w, seq, "CA3", 3, t0 + 30'000);
  CHECK(line_of(w) == std::vector<std::string>{"CA2", "CA1", "CA3"});
  CHECK(longest_wait(w) == 60);
  CHECK(w.position_of("support", w.find_call("CA3")->key()) == 3);

  // A copy shares the states; the original moves on and copies them first.
  world before = w;
  event gone = abandoned("CA1");
  gone.ts_ms = t0 + 40'000;
  w.apply(seq++, gone);
  CHECK(line_of(w) == std::vector<std::string>{"CA2", "CA3"});
  CHECK(longest_wait(w) == 40);  // CA2, since t0 + 20 s
  CHECK(w.position_of("support", w.find_call("CA3")->key()) == 2);
  CHECK(line_of(before) == std::vector<std::string>{"CA2", "CA1", "CA3"});
  CHECK(longest_wait(before) == 60);

  // The copy takes an actor's equal state for CA3 and lets go of its own;
  // the line now reads CA3 through the adopted state.
  auto actor = std::make_shared<call_state>(*before.find_call("CA3"));
  before.adopt(actor);
  REQUIRE(before.find_call("CA3") == actor.get());
  w = world{policy{}};  // the states only the original held are gone
  CHECK(line_of(before) == std::vector<std::string>{"CA2", "CA1", "CA3"});
  CHECK(before.position_of("support", actor->key()) == 3);
  event abandoned3 = abandoned("CA3");
  before.apply(seq++, abandoned3);
  CHECK(line_of(before) == std::vector<std::string>{"CA2", "CA1"});
  CHECK(actor->phase == call_phase::queued);  // the actor's own state unchanged

  // A change that keeps a call in its place: the copy that makes it
  // takes the place too, and outlives the world it was copied from.
  world after = before;
  call_requirements_set r;
  r.call_sid = "CA2";
  r.require = {{"es", 1}};
  after.apply(seq++, {t0 + 50'000, r});
  before = world{policy{}};
  CHECK(line_of(after) == std::vector<std::string>{"CA2", "CA1"});
  CHECK(after.status(t0 + 60'000).queues.at(0).waiting.at(0).require.at("es") == 1);
}

TEST_CASE("world: waits are predicted with the talk time of about the last 50 calls, kept in "
          "the world's image") {
  world w{policy{}};
  uint64_t seq = 1;
  for (int64_t talk : {100, 200}) {
    call_completed done;
    done.call_sid = "CA" + std::to_string(seq);
    done.talk_seconds = talk;
    w.apply(seq++, {t0, done});
  }
  // (100 s x 0.98 + 200 s) / (0.98 + 1); the status view's average
  // follows the last few: (4 x 100 s + 200 s) / 5.
  CHECK(w.metrics().predicted_handle_ms() == 150'505);
  CHECK(w.metrics().avg_handle_ms == 120'000);
  world again = world::from_image(policy{}, w.image());  // the snapshot's content
  CHECK(again.metrics().predicted_handle_ms() == 150'505);
  // A snapshot from before the decayed mean: the average stands in.
  world_metrics older = w.metrics();
  older.talked_ms = older.talks = 0;
  CHECK(older.predicted_handle_ms() == 120'000);
}
