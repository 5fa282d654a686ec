// Random interleavings of everything that can happen, checking after every
// step that no call is offered to two agents, no agent holds two offers,
// no call waits while an eligible agent is idle, the queue is in
// priority-then-FIFO order, and that replaying the log rebuilds the same
// state.
#include <random>

#include <catch2/catch.hpp>

#include "tests/center_harness.hpp"

using namespace callq;
using callq::testing::center_harness;

namespace {

struct scenario {
  std::mt19937_64 rng;
  center_harness h;
  int calls = 0, agents = 0;

  explicit scenario(uint64_t seed) : rng(seed) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  std::string some_call() { return "CA" + std::to_string(pick(std::max(1, calls))); }
  std::string some_agent() { return "ag" + std::to_string(pick(std::max(1, agents))); }
  std::string some_offer() {
    const call* c = h.state().find_call(some_call());
    return c && !c->offer_id.empty() ? c->offer_id : "OF1";
  }

  void step() {
    static const char* statuses[] = {"available", "available", "available", "busy", "break", "offline"};
    static const char* dial[] = {"completed", "no-answer", "busy", "failed", "canceled"};
    switch (pick(14)) {
      case 0:
      case 1: {
        auto prio = pick(4) == 0 ? std::optional<int64_t>(pick(3) * 5) : std::nullopt;
        h.incoming("CA" + std::to_string(calls++), "+1555" + std::to_string(pick(5)), prio);
        break;
      }
      case 2:
        if (agents < 12) {
          std::string id = "ag" + std::to_string(agents++);
          std::vector<std::string> q = {"support"};
          h.run(cmd::put_agent{id, id, id, "hash-" + id, q, {}});
        }
        break;
      case 3:
      case 4:
        h.heartbeat(some_agent(), statuses[pick(6)], pick(8) != 0);
        break;
      case 5:
        h.advance(pick(70'000));
        break;
      case 6:
        h.run(cmd::dial_result{some_offer(), dial[pick(5)], pick(6) == 0 ? "completed" : "in-progress",
                               pick(200)});
        break;
      case 7:
        h.run(cmd::agent_leg_status{some_offer(), "in-progress"});
        break;
      case 8:
        h.run(cmd::call_status{some_call(), "completed"});
        break;
      case 9:
        h.run(cmd::hold_poll{some_call()});
        break;
      case 10:
        h.run(cmd::callback_response{some_call(), pick(2) ? "1" : "3"});
        break;
      case 11: {
        const call* c = h.state().find_call(some_call());
        if (c && !c->callback_id.empty()) {
          h.run(cmd::callback_connect{c->callback_id});
          h.run(cmd::callback_result{c->callback_id, dial[pick(5)], pick(100)});
        }
        break;
      }
      case 12:
        h.run(pick(2) ? cmd::command{cmd::heartbeat_cleanup{}} : cmd::command{cmd::sweep{}});
        break;
      case 13:
        h.run(cmd::redirect_failed{some_offer(), "test"});
        break;
    }
  }
};

}  // namespace

TEST_CASE("random interleavings keep every dispatch invariant") {
  int violations = 0;
  for (uint64_t seed = 1; seed <= 120; ++seed) {
    scenario s(seed);
    for (int i = 0; i < 250; ++i) {
      s.step();
      std::string problems = s.h.state().check_invariants();
      if (!problems.empty()) {
        ++violations;
        FAIL_CHECK("seed " << seed << " step " << i << ":\n" << problems);
        break;
      }
    }
    INFO("seed " << seed);
    CHECK(s.h.replayed_digest() == s.h.state().digest());
  }
  CHECK(violations == 0);
}

TEST_CASE("live state equals replayed state after a long scripted run") {
  scenario s(4242);
  for (int i = 0; i < 20'000; ++i)
    s.step();
  CHECK(s.h.log.size() > 10'000);
  CHECK(s.h.state().check_invariants().empty());
  CHECK(s.h.replayed_digest() == s.h.state().digest());
}
