#include "actors/dispatcher/match_index.hpp"

#include <algorithm>
#include <map>
#include <random>

#include <catch2/catch.hpp>

using namespace callq;

namespace {

call_view waiting(const std::string& sid, int64_t priority, int64_t enqueued, uint64_t order,
                  std::string queue = "support") {
  call_view v;
  v.sid = call_sid(sid);
  v.queue = std::move(queue);
  v.key = {false, priority, enqueued, order};
  v.dispatchable = true;
  v.version = 1;
  return v;
}

agent_view ready(const std::string& id, int64_t rank, int64_t idle_since,
                 std::vector<std::string> queues = {"support"}) {
  agent_view v;
  v.id = id;
  v.identity = "client-" + id;
  for (auto& q : queues)
    v.members[q] = membership{};
  v.eligible = v.staffed = true;
  v.rank = rank;
  v.idle_since_ms = idle_since;
  v.version = 1;
  return v;
}

}  // namespace

TEST_CASE("match index: priority, then FIFO, readiness, then longest idle") {
  policy p;
  match_index ix(p);
  ix.update(waiting("CA1", 0, 100, 1));
  ix.update(waiting("CA2", 5, 200, 2));
  ix.update(waiting("CA3", 0, 50, 3));
  ix.update(ready("bob", 80, 10));
  ix.update(ready("alice", 100, 20));
  ix.update(ready("carol", 100, 5));
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA2");      // higher priority
  CHECK(m->agent_id == "carol");    // readiness 100, idle longer than alice
  CHECK(m->identity == "client-carol");
  m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA3");      // earlier enqueue
  CHECK(m->agent_id == "alice");
  m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA1");
  CHECK(m->agent_id == "bob");
  CHECK_FALSE(ix.next(0, false));
  CHECK(ix.held() == 3);
}

TEST_CASE("match index: held sides never match twice, a release puts them back") {
  policy p;
  match_index ix(p);
  ix.update(waiting("CA1", 0, 100, 1));
  ix.update(waiting("CA2", 0, 200, 2));
  ix.update(ready("alice", 100, 0));
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK_FALSE(ix.next(0, false));  // alice is held for CA1
  ix.release(*m);                  // the call refused (hung up meanwhile)
  call_view gone = waiting("CA1", 0, 100, 1);
  gone.dispatchable = false;
  gone.version = 2;
  ix.update(gone);
  m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA2");
  // An older view never overwrites a newer one.
  ix.release(*m);
  auto newer = waiting("CA2", 0, 200, 2);
  newer.version = 3;
  ix.update(newer);
  auto older = waiting("CA2", 0, 200, 2);
  older.dispatchable = false;
  older.version = 2;
  ix.update(older);
  CHECK(ix.waiting() == 1);
}

TEST_CASE("match index: the next agent is one who has not failed the call, a rest holds the others back") {
  policy p;
  match_index ix(p);
  auto c = waiting("CA1", 0, 100, 1);
  c.edit_routing().tried = {"alice"};
  ix.update(c);
  ix.update(ready("alice", 100, 0));
  ix.update(ready("bob", 60, 0));
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->agent_id == "bob");
  ix.release(*m);
  auto busy = ready("bob", 60, 0);
  busy.eligible = false;
  busy.version = 2;
  ix.update(busy);
  c.edit_routing().rest_until_ms = 1000;
  c.version = 2;
  ix.update(c);
  CHECK_FALSE(ix.next(999, false));  // only alice, who failed it, during the rest
  CHECK(ix.check_idle(999).empty());
  ix.update(c);  // the call's tick at the end of the rest sends its view again
  m = ix.next(1000, false);
  REQUIRE(m);
  CHECK(m->agent_id == "alice");
}

TEST_CASE("match index: an agent in two queues takes the best head call across them") {
  policy p;
  match_index ix(p);
  ix.update(waiting("CA-sales", 0, 100, 1, "sales"));
  ix.update(waiting("CA-support", 3, 500, 2, "support"));
  ix.update(ready("alice", 100, 0, {"sales", "support"}));
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA-support");
  CHECK(m->queue == "support");
}

TEST_CASE("match index: without multi-agent fallback a failed call waits for a sweep") {
  policy p;
  p.feature_multi_agent_fallback = false;
  match_index ix(p);
  auto c = waiting("CA1", 0, 100, 1);
  c.edit_routing().failed_in_row = 1;
  c.fallback = false;  // as view_of() gives it under that policy (or the call's own flags)
  ix.update(c);
  ix.update(ready("alice", 100, 0));
  CHECK_FALSE(ix.next(0, false));
  CHECK(ix.check_idle(0).empty());  // left to the sweep, not stuck
  auto m = ix.next(0, true);
  REQUIRE(m);
  CHECK(m->call_sid == "CA1");
}

TEST_CASE("match index: a failed call without agent polling is left out of the sweep too") {
  policy p;  // both flags on for the server: the calls' own flags decide
  match_index ix(p);
  auto unpolled = waiting("CA1", 0, 100, 1);
  unpolled.edit_routing().failed_in_row = 1;
  unpolled.fallback = false;
  unpolled.polled = false;  // as view_of() gives it for a call whose recorded FEATURE_AGENT_POLLING is off
  auto polled = waiting("CA2", 0, 200, 2);
  polled.edit_routing().failed_in_row = 1;
  polled.fallback = false;
  ix.update(unpolled);
  ix.update(polled);
  ix.update(ready("alice", 100, 0));
  CHECK_FALSE(ix.next(0, false));
  CHECK(ix.check_idle(0).empty());
  auto m = ix.next(0, true);
  REQUIRE(m);
  CHECK(m->call_sid == "CA2");  // though CA1 came first
  ix.release(*m);
  ix.remove_call("CA2");
  CHECK_FALSE(ix.next(0, true));
}

namespace {

/// An agent in `queue` with a penalty and per-queue counts.
agent_view member(const std::string& id, const std::string& queue, int64_t penalty,
                  int64_t idle_since = 0, int64_t answered = 0, int64_t talk_ms = 0,
                  int64_t rank = 100) {
  agent_view v = ready(id, rank, idle_since, {});
  v.members[queue] = membership{penalty, 0, answered, talk_ms};
  return v;
}

queue_config with(routing_strategy s) {
  queue_config c;
  c.strategy = s;
  return c;
}

/// Offers `calls` calls of `queue` one after the other, each released
/// right away (the agent back as it was): the agents chosen, in order.
std::vector<std::string> offers(match_index& ix, const std::string& queue, int calls) {
  std::vector<std::string> chosen;
  for (int i = 0; i < calls; ++i) {
    std::string sid = "CA" + std::to_string(i);
    ix.update(waiting(sid, 0, 100 + i, static_cast<uint64_t>(i + 1), queue));
    auto m = ix.next(0, false);
    if (!m)
      break;
    chosen.push_back(m->agent_id);
    ix.release(*m);
    auto gone = waiting(sid, 0, 100 + i, static_cast<uint64_t>(i + 1), queue);
    gone.dispatchable = false;
    gone.version = 2;
    ix.update(gone);
  }
  return chosen;
}

}  // namespace

TEST_CASE("strategy longest-idle: readiness, then longest idle, within the lowest penalty") {
  policy p;
  match_index ix(p);
  ix.update(member("ann", "support", 0, 50));
  ix.update(member("bea", "support", 0, 10));
  ix.update(member("cid", "support", 1, 0));  // idle longest, but a penalty
  CHECK(offers(ix, "support", 2) == std::vector<std::string>{"bea", "bea"});
  ix.update(member("bea", "support", 0, 10, 0, 0, 50));  // lower readiness
  CHECK(offers(ix, "support", 1) == std::vector<std::string>{"ann"});
}

TEST_CASE("strategy round-robin: the member after the one offered last, wrapping, remembered") {
  policy p;
  match_index ix(p);
  auto rr = with(routing_strategy::round_robin);
  ix.configure("support", &rr);
  for (auto id : {"ann", "bea", "cid"})
    ix.update(member(id, "support", 0));
  CHECK(offers(ix, "support", 4) == std::vector<std::string>{"ann", "bea", "cid", "ann"});
  // Restored memory (a restart): the next is after the one restored.
  match_index again(p);
  again.configure("support", &rr);
  for (auto id : {"ann", "bea", "cid"})
    again.update(member(id, "support", 0));
  again.set_last_offered("support", "bea");
  CHECK(offers(again, "support", 2) == std::vector<std::string>{"cid", "ann"});
}

TEST_CASE("strategy fewest-calls and least-talk-time: the member's own counts in the queue") {
  policy p;
  match_index ix(p);
  auto fewest = with(routing_strategy::fewest_calls);
  ix.configure("support", &fewest);
  ix.update(member("ann", "support", 0, 0, 5, 100));
  ix.update(member("bea", "support", 0, 10, 2, 900'000));
  ix.update(member("cid", "support", 0, 5, 2, 1'000));
  // bea and cid both answered 2: the longer idle (cid, since 5) wins.
  CHECK(offers(ix, "support", 1) == std::vector<std::string>{"cid"});
  auto least = with(routing_strategy::least_talk_time);
  ix.configure("support", &least);
  CHECK(offers(ix, "support", 1) == std::vector<std::string>{"ann"});
  // A new count reorders: ann talked a lot on her next call.
  ix.update(member("ann", "support", 0, 0, 6, 2'000'000));
  CHECK(offers(ix, "support", 1) == std::vector<std::string>{"cid"});
}

TEST_CASE("strategy linear: penalty, then agent id, always from the top") {
  policy p;
  match_index ix(p);
  auto linear = with(routing_strategy::linear);
  ix.configure("support", &linear);
  ix.update(member("zed", "support", 0, 0));
  ix.update(member("amy", "support", 2, 0));
  ix.update(member("kai", "support", 0, 99));
  CHECK(offers(ix, "support", 3) == std::vector<std::string>{"kai", "kai", "kai"});
}

TEST_CASE("strategy random: draws among the lowest penalty only, every member in time, replayable by seed") {
  policy p;
  auto random = with(routing_strategy::random);
  auto run = [&](uint64_t seed) {
    match_index ix(p, seed);
    ix.configure("support", &random);
    for (auto id : {"ann", "bea", "cid"})
      ix.update(member(id, "support", 0));
    ix.update(member("pen", "support", 3));
    return offers(ix, "support", 60);
  };
  auto picks = run(7);
  REQUIRE(picks.size() == 60);
  std::map<std::string, int> count;
  for (auto& id : picks)
    ++count[id];
  CHECK(count.count("pen") == 0);
  CHECK(count["ann"] > 5);
  CHECK(count["bea"] > 5);
  CHECK(count["cid"] > 5);
  CHECK(run(7) == picks);  // the same seed draws the same agents
}

TEST_CASE("penalties: a higher penalty is offered only when no lower one is ready") {
  policy p;
  match_index ix(p);
  ix.update(member("low", "support", 0, 100));
  ix.update(member("high", "support", 5, 0));
  ix.update(waiting("CA1", 0, 1, 1));
  ix.update(waiting("CA2", 0, 2, 2));
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->agent_id == "low");
  m = ix.next(0, false);  // low is held: high takes the next call
  REQUIRE(m);
  CHECK(m->agent_id == "high");
  // The same agent can have different penalties in different queues.
  match_index two(p);
  auto a = member("a", "sales", 0);
  a.members["support"] = membership{4, 0, 0, 0};
  auto b = member("b", "support", 0, 50);
  two.update(a);
  two.update(b);
  two.update(waiting("CA9", 0, 1, 1, "support"));
  m = two.next(0, false);
  REQUIRE(m);
  CHECK(m->agent_id == "b");
}

TEST_CASE("penalties: a call every lower-penalty member has failed goes to a higher one, whatever the strategy") {
  for (auto strategy : {routing_strategy::longest_idle, routing_strategy::round_robin,
                        routing_strategy::random, routing_strategy::linear}) {
    INFO("strategy " << static_cast<int>(strategy));
    policy p;
    match_index ix(p);
    auto c = with(strategy);
    ix.configure("support", &c);
    ix.update(member("ann", "support", 0));
    ix.update(member("bob", "support", 3));
    auto call = waiting("CA1", 0, 1, 1);
    call.edit_routing().tried = {"ann"};
    ix.update(call);
    auto m = ix.next(0, false);
    REQUIRE(m);
    CHECK(m->agent_id == "bob");
  }
}

TEST_CASE("match index: an agent's view older than the one it holds changes nothing") {
  policy p;
  match_index ix(p);
  auto busy = ready("alice", 100, 0);
  busy.eligible = false;
  busy.version = 2;
  ix.update(busy);
  ix.update(ready("alice", 100, 0));  // version 1, arriving late
  ix.update(waiting("CA1", 0, 100, 1));
  CHECK_FALSE(ix.next(0, false));
  REQUIRE(ix.find_agent("alice"));
  CHECK(ix.find_agent("alice")->version == 2);
}

TEST_CASE("reconfiguring a queue reorders its members, in_use sees calls and members") {
  policy p;
  match_index ix(p);
  ix.update(member("ann", "support", 0, 50));
  ix.update(member("bob", "support", 0, 10));
  CHECK(offers(ix, "support", 1) == std::vector<std::string>{"bob"});
  auto linear = with(routing_strategy::linear);
  ix.configure("support", &linear);
  CHECK(ix.config_of("support").strategy == routing_strategy::linear);
  CHECK(offers(ix, "support", 1) == std::vector<std::string>{"ann"});
  ix.configure("support", nullptr);
  CHECK(ix.config_of("support").strategy == routing_strategy::longest_idle);
  CHECK(ix.in_use("support"));
  CHECK_FALSE(ix.in_use("sales"));
  ix.update(waiting("CA-s", 0, 1, 1, "sales"));
  CHECK(ix.in_use("sales"));
}

namespace {

call_view needing(call_view v, std::map<std::string, int64_t> require) {
  v.edit_routing().require = std::move(require);
  return v;
}

agent_view skilled(agent_view v, std::map<std::string, int64_t> skills) {
  v.skills = std::move(skills);
  return v;
}

}  // namespace

TEST_CASE("match index: a call goes only to agents with its skills at its levels") {
  policy p;
  match_index ix(p);
  ix.update(needing(waiting("CA1", 0, 100, 1), {{"es", 3}}));
  ix.update(skilled(ready("alice", 100, 0), {{"es", 2}}));  // level too low
  ix.update(skilled(ready("bob", 50, 0), {{"fr", 5}}));     // wrong skill
  CHECK_FALSE(ix.next(0, false));
  CHECK(ix.check_idle(0).empty());  // nobody ready is eligible for CA1
  ix.update(skilled(ready("carol", 10, 0), {{"es", 3}, {"fr", 1}}));
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA1");
  CHECK(m->agent_id == "carol");  // the only one eligible, though least ready
}

TEST_CASE("match index: a call nobody ready can take keeps its place while calls behind it are served") {
  policy p;
  match_index ix(p);
  ix.update(needing(waiting("CA1", 0, 100, 1), {{"es", 1}}));
  ix.update(waiting("CA2", 0, 200, 2));
  ix.update(needing(waiting("CA3", 0, 300, 3), {{"billing", 2}}));
  ix.update(skilled(ready("alice", 100, 0), {{"billing", 2}}));
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA2");  // the first call alice can take
  CHECK(m->agent_id == "alice");
  ix.update(skilled(ready("bob", 100, 0), {{"billing", 4}}));
  m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA3");
  CHECK(ix.waiting() == 1);  // CA1, still first in line
  // CA1 relaxes (its next skill step requires nothing): dave may take it.
  ix.update(ready("dave", 1, 0));
  CHECK_FALSE(ix.next(0, false));
  call_view relaxed = waiting("CA1", 0, 100, 1);
  relaxed.version = 2;
  ix.update(relaxed);
  m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA1");
  CHECK(m->agent_id == "dave");
}

TEST_CASE("match index: an agent who gains a skill, or becomes ready, is matched to the best call they can take") {
  policy p;
  match_index ix(p);
  ix.update(needing(waiting("CA1", 0, 100, 1), {{"es", 3}}));
  ix.update(needing(waiting("CA2", 0, 200, 2), {{"fr", 1}}));
  ix.update(needing(waiting("CA3", 5, 300, 3), {{"fr", 1}}));
  agent_view a = skilled(ready("alice", 100, 0), {{"es", 1}});
  ix.update(a);
  CHECK_FALSE(ix.next(0, false));
  a.skills = {{"es", 3}, {"fr", 2}};  // an operator raised her levels
  a.version = 2;
  ix.update(a);
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA3");  // higher priority than CA1; she now has both
  ix.release(*m);
  a.skills = {{"es", 3}};  // and dropped french again
  a.version = 3;
  ix.update(a);
  call_view gone = needing(waiting("CA3", 5, 300, 3), {{"fr", 1}});
  gone.dispatchable = false;
  gone.version = 2;
  ix.update(gone);
  m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA1");
  CHECK(m->agent_id == "alice");
  CHECK(ix.waiting() == 1);  // CA2: nobody ready speaks french
}

TEST_CASE("match index: skilled calls follow the queue's strategy and penalties among eligible agents") {
  policy p;
  match_index ix(p);
  queue_config linear;
  linear.strategy = routing_strategy::linear;
  ix.configure("support", &linear);
  agent_view amy = skilled(ready("amy", 0, 0), {{"es", 5}});
  amy.members["support"].penalty = 2;
  ix.update(amy);
  ix.update(skilled(ready("zed", 0, 0), {{"es", 5}}));
  ix.update(ready("bea", 0, 0));  // first by id, but lacks the skill
  ix.update(needing(waiting("CA1", 0, 100, 1), {{"es", 2}}));
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->agent_id == "zed");  // penalty 0 before amy's 2; bea is not eligible
  // Legacy routing asks for one call's best agent directly.
  ix.update(needing(waiting("CA2", 0, 200, 2), {{"es", 2}}));
  auto d = ix.direct("CA2", 0);
  REQUIRE(d);
  CHECK(d->agent_id == "amy");
  ix.update(needing(waiting("CA3", 0, 300, 3), {{"es", 2}}));
  CHECK_FALSE(ix.direct("CA3", 0));  // bea is ready but cannot take it
}

TEST_CASE("match index: a call waiting for its caller's last agent goes to that agent only, then to anyone") {
  policy p;
  match_index ix(p);
  auto c = waiting("CA1", 0, 100, 1);
  c.edit_routing().preferred_agent = "bob";
  ix.update(c);
  ix.update(waiting("CA2", 0, 200, 2));
  ix.update(ready("alice", 100, 5));  // readier and idle longer than bob
  // Alice takes the call behind; CA1 keeps its place for bob.
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA2");
  CHECK(m->agent_id == "alice");
  CHECK_FALSE(ix.next(0, false));
  CHECK(ix.check_idle(0).empty());
  // Bob becomes ready: he gets it.
  ix.update(ready("bob", 50, 50));
  m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA1");
  CHECK(m->agent_id == "bob");

  // A wait that ends (the view without the agent) opens the call to all.
  match_index iy(p);
  iy.update(c);
  iy.update(ready("alice", 100, 5));
  CHECK_FALSE(iy.next(0, false));
  c.edit_routing().preferred_agent.clear();
  c.version = 2;
  iy.update(c);
  m = iy.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA1");
  CHECK(m->agent_id == "alice");

  // The preferred agent must still have the skills the call needs.
  match_index iz(p);
  auto s = waiting("CA3", 0, 100, 1);
  s.edit_routing().preferred_agent = "bob";
  s.edit_routing().require = {{"es", 2}};
  iz.update(s);
  auto bob = ready("bob", 50, 50);
  iz.update(bob);
  CHECK_FALSE(iz.next(0, false));
  bob.skills = {{"es", 2}};
  bob.version = 2;
  iz.update(bob);
  m = iz.next(0, false);
  REQUIRE(m);
  CHECK(m->agent_id == "bob");
}

TEST_CASE("match index: ring-all offers a call to up to ringAllMax members of the lowest penalty, not those who failed it") {
  policy p;
  match_index ix(p);
  queue_config c;
  c.strategy = routing_strategy::ring_all;
  c.ring_all_max = 3;
  ix.configure("support", &c);
  auto w = waiting("CA1", 0, 100, 1);
  w.edit_routing().tried = {"bob"};
  ix.update(w);
  for (auto [id, idle] : {std::pair<const char*, int64_t>{"ann", 10}, {"bob", 5}, {"cat", 20},
                          {"dan", 30}, {"eve", 40}})
    ix.update(ready(id, 100, idle));
  auto pen = ready("zed", 100, 1);
  pen.members["support"].penalty = 2;
  ix.update(pen);
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->agent_id == "ann");  // longest idle of those who have not failed it
  REQUIRE(m->also.size() == 2);
  CHECK(m->also[0].first == "cat");
  CHECK(m->also[0].second == "client-cat");
  CHECK(m->also[1].first == "dan");
  // Every agent rung is held; the rest are free for other calls.
  CHECK(ix.ready() == 3);  // bob, eve, zed
  ix.release(*m);
  CHECK(ix.ready() == 6);
  // A callback calls one agent, whatever the strategy.
  match_index iy(p);
  iy.configure("support", &c);
  auto cb = waiting("CA2", 0, 100, 1);
  cb.callback = true;
  cb.edit_routing().callback_id = "CB1";
  iy.update(cb);
  iy.update(ready("ann", 100, 10));
  iy.update(ready("cat", 100, 20));
  auto one = iy.next(0, false);
  REQUIRE(one);
  CHECK(one->also.empty());
}

TEST_CASE("match index, random operations: every match is the first call in dispatch order that a free agent can take, and nothing is left that could be matched") {
  // An oracle that looks at every pair by brute force, against the index's
  // ordered sets, over random views, holds and releases (reservations in
  // parallel). Skills, preferred agents, several queues and priorities
  // vary; every queue runs the default strategy.
  const std::vector<std::string> queues = {"q1", "q2", "q3"};
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
    policy p;
    match_index ix(p, seed);
    std::map<std::string, call_view> calls;
    std::map<std::string, agent_view> agents;
    std::vector<match> open;  // reservations under way
    auto held_call = [&](const std::string& sid) {
      return std::any_of(open.begin(), open.end(), [&](const match& m) { return m.call_sid == sid; });
    };
    auto held_agent = [&](const std::string& id) {
      return std::any_of(open.begin(), open.end(), [&](const match& m) { return m.agent_id == id; });
    };
    auto can_take = [&](const agent_view& a, const call_view& c) {
      return a.eligible && a.members.count(c.queue) && meets_requirement(a.skills, c.routing().require) &&
             (c.routing().preferred_agent.empty() || c.routing().preferred_agent == a.id);
    };
    // The first call in dispatch order that some free agent can take.
    auto best_takeable = [&]() -> const call_view* {
      const call_view* best = nullptr;
      for (auto& [sid, c] : calls) {
        if (!c.dispatchable || held_call(sid))
          continue;
        bool takeable = std::any_of(agents.begin(), agents.end(), [&](auto& kv) {
          return !held_agent(kv.first) && can_take(kv.second, c);
        });
        if (takeable && (best == nullptr || c.key < best->key))
          best = &c;
      }
      return best;
    };
    uint64_t order = 0;
    for (int step = 0; step < 200; ++step) {
      switch (pick(6)) {
        case 0: {  // a call arrives or changes
          std::string sid = "CA" + std::to_string(pick(12));
          call_view c = calls.count(sid) ? calls[sid] : waiting(sid, 0, 0, ++order, queues[pick(3)]);
          c.key.priority = static_cast<int64_t>(pick(3));
          c.key.enqueued_ms = static_cast<int64_t>(pick(50));
          c.key.escalated = pick(8) == 0;
          c.dispatchable = pick(5) != 0;
          c.edit_routing().require.clear();
          if (pick(3) == 0)
            c.edit_routing().require["es"] = static_cast<int64_t>(1 + pick(3));
          c.edit_routing().preferred_agent = pick(6) == 0 ? "ag" + std::to_string(pick(6)) : "";
          ++c.version;
          calls[sid] = c;
          ix.update(c);
          break;
        }
        case 1: {  // an agent changes
          std::string id = "ag" + std::to_string(pick(6));
          agent_view a = agents.count(id) ? agents[id] : ready(id, 100, 0, {});
          a.members.clear();
          for (auto& q : queues)
            if (pick(2) == 0)
              a.members[q] = membership{};
          a.skills.clear();
          if (pick(2) == 0)
            a.skills["es"] = static_cast<int64_t>(1 + pick(3));
          a.eligible = pick(4) != 0;
          a.rank = static_cast<int64_t>(40 + pick(61));
          a.idle_since_ms = static_cast<int64_t>(pick(100));
          ++a.version;
          agents[id] = a;
          ix.update(a);
          break;
        }
        case 2:
        case 3: {  // the dispatcher asks for the next match
          const call_view* expect = best_takeable();
          auto m = ix.next(0, pick(2) == 0);
          if (!m) {
            INFO("step " << step);
            CHECK(expect == nullptr);
            break;
          }
          REQUIRE(calls.count(m->call_sid));
          REQUIRE(agents.count(m->agent_id));
          INFO("step " << step << ": matched " << m->call_sid << " to " << m->agent_id);
          CHECK_FALSE(held_call(m->call_sid));
          CHECK_FALSE(held_agent(m->agent_id));
          CHECK(can_take(agents[m->agent_id], calls[m->call_sid]));
          REQUIRE(expect != nullptr);
          // No call before it in dispatch order could have been taken.
          CHECK(expect->sid == m->call_sid);
          open.push_back(*m);
          break;
        }
        case 4: {  // a reservation ends
          if (open.empty())
            break;
          size_t i = pick(open.size());
          ix.release(open[i]);
          open.erase(open.begin() + static_cast<std::ptrdiff_t>(i));
          break;
        }
        case 5: {  // a call finishes
          std::string sid = "CA" + std::to_string(pick(12));
          if (!calls.count(sid) || held_call(sid))
            break;
          calls.erase(sid);
          ix.remove_call(sid);
          break;
        }
      }
    }
  }
}

TEST_CASE("match index: a call whose flags drop an agent-side check may go to an agent only that check refuses") {
  policy p;  // the server applies every agent-side check
  match_index ix(p);
  agent_view dave = ready("dave", 100, 10);
  dave.eligible = false;  // its softphone is not registered: eligible only without that check
  for (unsigned k = 0; k < 8; ++k)
    if ((k & check_device) == 0)
      dave.eligible_under = static_cast<uint8_t>(dave.eligible_under | (1u << k));
  ix.update(dave);
  ix.update(waiting("CA1", 0, 100, 1));  // every check
  call_view legacy = waiting("CA2", 0, 200, 2);
  legacy.agent_checks = check_heartbeat | check_readiness;  // FEATURE_DEVICE_CONNECTIVITY off for it
  ix.update(legacy);
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA2");  // CA1 is earlier, but nobody may take it
  CHECK(m->agent_id == "dave");
  CHECK(m->agent_checks == (check_heartbeat | check_readiness));
  CHECK_FALSE(ix.next(0, false));
  CHECK(ix.check_idle(0).empty());
  // An agent who passes every check takes the earlier call; one on the
  // legacy path would be taken by anyone free.
  ix.update(ready("erin", 100, 20));
  m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA1");
  CHECK(m->agent_id == "erin");
  CHECK(m->agent_checks == (check_heartbeat | check_device | check_readiness));
  ix.release(m.value());
  call_view later = waiting("CA3", 0, 300, 3);
  later.agent_checks = 0;
  ix.update(later);
  m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA1");  // still first in dispatch order
  auto n = ix.next(0, false);
  CHECK_FALSE(n);  // erin is held; dave is held by CA2
}

TEST_CASE("match index: a group whose head call rests for the free agent does not put its later calls before another group's earlier one") {
  policy p;
  match_index ix(p);
  agent_view ag = ready("ag", 100, 10);
  ag.skills["es"] = 5;
  ix.update(ag);
  call_view resting = waiting("CA1", 0, 100, 1);  // failed with ag, rests until 1000
  resting.edit_routing().require["es"] = 1;
  resting.edit_routing().tried = {"ag"};
  resting.edit_routing().failed_in_row = 1;
  resting.edit_routing().rest_until_ms = 1'000;
  ix.update(resting);
  ix.update(waiting("CA2", 0, 200, 2));  // no skill: another group
  call_view later = waiting("CA3", 0, 300, 3);
  later.edit_routing().require["es"] = 1;  // the resting call's group
  ix.update(later);
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA2");  // not CA3, behind it in dispatch order
}

TEST_CASE("match index: a call whose flags leave out readiness sees the agents in the legacy order, longest idle first") {
  policy p;  // the server applies every check
  match_index ix(p);
  ix.update(ready("alice", 100, 50));  // readier
  ix.update(ready("bob", 60, 0));      // idle longer
  call_view legacy = waiting("CA1", 0, 100, 1);
  legacy.agent_checks = check_heartbeat | check_device;  // FEATURE_ENHANCED_DISCOVERY off for it
  ix.update(legacy);
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->agent_id == "bob");
  ix.release(*m);
  ix.remove_call("CA1");
  ix.update(waiting("CA2", 0, 200, 2));  // the new path: readiness first
  m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->agent_id == "alice");
  ix.release(*m);
  // An agent's change of readiness moves it in both orders alike.
  agent_view bob = ready("bob", 100, 0);
  bob.version = 2;
  ix.update(bob);
  m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->call_sid == "CA2");
  CHECK(m->agent_id == "bob");  // as ready as alice now, and idle longer
}

TEST_CASE("match index: ring-all rings ringAllMax agents at most, of the chosen one's penalty only") {
  policy p;
  queue_config c = with(routing_strategy::ring_all);
  c.ring_all_max = 2;
  match_index ix(p);
  ix.configure("support", &c);
  auto w = waiting("CA1", 0, 100, 1);
  w.edit_routing().tried = {"gone"};  // failed it, and left since: not among the ready
  ix.update(w);
  for (auto [id, idle] : {std::pair<const char*, int64_t>{"ann", 10}, {"bob", 20}, {"cat", 30}, {"dan", 40}})
    ix.update(member(id, "support", 0, idle));
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->agent_id == "ann");
  REQUIRE(m->also.size() == 1);  // two in all
  CHECK(m->also[0].first == "bob");
  // Fewer of the lowest penalty than ringAllMax: a higher penalty does
  // not ring beside them.
  c.ring_all_max = 3;
  match_index iy(p);
  iy.configure("support", &c);
  iy.update(waiting("CA2", 0, 100, 1));
  iy.update(member("ann", "support", 0, 10));
  iy.update(member("bob", "support", 0, 20));
  iy.update(member("zed", "support", 1, 5));
  m = iy.next(0, false);
  REQUIRE(m);
  CHECK(m->agent_id == "ann");
  REQUIRE(m->also.size() == 1);
  CHECK(m->also[0].first == "bob");
}

TEST_CASE("match index: reconfiguring a queue leaves a member who is not ready out") {
  policy p;
  match_index ix(p);
  auto away = member("ann", "support", 0, 10);
  away.eligible = false;  // on a break, say
  ix.update(away);
  ix.update(waiting("CA1", 0, 100, 1));
  CHECK_FALSE(ix.next(0, false));
  auto linear = with(routing_strategy::linear);
  ix.configure("support", &linear);
  CHECK_FALSE(ix.next(0, false));
  CHECK(ix.ready() == 0);
}

TEST_CASE("match index: a call held by a match is not matched again directly") {
  policy p;
  match_index ix(p);
  ix.update(waiting("CA1", 0, 100, 1));
  ix.update(waiting("CA2", 0, 200, 2));  // keeps the calls' group in the index
  ix.update(member("ann", "support", 0, 10));
  auto m = ix.next(0, false);
  REQUIRE(m);
  REQUIRE(m->call_sid == "CA1");
  ix.update(member("bob", "support", 0, 20));
  CHECK_FALSE(ix.direct("CA1", 0));
  auto d = ix.direct("CA2", 0);
  REQUIRE(d);
  CHECK(d->agent_id == "bob");
}
