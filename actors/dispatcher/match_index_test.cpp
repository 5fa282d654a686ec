#include "actors/dispatcher/match_index.hpp"

#include <catch2/catch.hpp>

using namespace callq;

namespace {

call_view waiting(const std::string& sid, int64_t priority, int64_t enqueued, uint64_t order,
                  std::string queue = "support") {
  call_view v;
  v.sid = sid;
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
  v.queues = std::move(queues);
  v.eligible = v.staffed = true;
  v.rank = rank;
  v.idle_since_ms = idle_since;
  v.version = 1;
  return v;
}

}  // namespace

TEST_CASE("match index: priority, then FIFO; readiness, then longest idle") {
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

TEST_CASE("match index: held sides never match twice; a release puts them back") {
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

TEST_CASE("match index: the next agent is one who has not failed the call; a rest holds the others back") {
  policy p;
  match_index ix(p);
  auto c = waiting("CA1", 0, 100, 1);
  c.tried = {"alice"};
  ix.update(c);
  ix.update(ready("alice", 100, 0));
  ix.update(ready("bob", 60, 0));
  auto m = ix.next(0, false);
  REQUIRE(m);
  CHECK(m->agent_id == "bob");
  ix.release(*m);
  ix.update(agent_view{"bob", "client-bob", {"support"}, false, true, 60, 0, 2});
  c.rest_until_ms = 1000;
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
  c.failed_in_row = 1;
  ix.update(c);
  ix.update(ready("alice", 100, 0));
  CHECK_FALSE(ix.next(0, false));
  auto m = ix.next(0, true);
  REQUIRE(m);
  CHECK(m->call_sid == "CA1");
}
