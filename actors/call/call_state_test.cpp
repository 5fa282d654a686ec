#include "actors/call/call_state.hpp"

#include <catch2/catch.hpp>

#include "tests/fold_history.hpp"

// The call's fold (apply), event by event. The replay-equality checks
// cannot see a wrong fold (the server and the replay share it); these
// say what each event does.

using namespace callq;
using namespace callq::events;

namespace {

/// A call's history (fold_history), with the usual start.
struct history : callq::testing::fold_history<call_state> {
  /// Arrived and queued in "support".
  history& queued() {
    on(call_arrived{"CA1", "+15551230001", "+15559990000", "support", "", 0, 1, {}, "", {}});
    on(call_enqueued{"CA1", "support", 0, 1});
    return *this;
  }
};

}  // namespace

TEST_CASE("call state: arrival counts as contact, an overflow drops the agent the call waited for") {
  history h;
  int64_t start = h.now;
  h.queued();
  CHECK(h.state.last_contact_ms == start + 1000);  // the arrival, the first event
  h.on(call_agent_preferred{"CA1", "support", "bob", "last-agent", h.now + 60'000});
  CHECK(h.state.routing().preferred_agent == "bob");
  h.on(call_overflowed{"CA1", "support", "overflow", 1, 1, 30, 1});
  CHECK(h.state.routing().preferred_agent.empty());
  CHECK(h.state.routing().prefer_until_ms == 0);
  h.on(call_agent_preferred{"CA1", "overflow", "carol", "last-agent", h.now + 60'000});
  h.on(call_agent_preferred{"CA1", "overflow", "", "expired", h.now + 60'000});
  CHECK(h.state.routing().preferred_agent.empty());
  CHECK(h.state.routing().prefer_until_ms == 0);  // nobody preferred: no deadline either
  apply_restart(h.state, h.now + 5000);  // a restart counts as contact too
  CHECK(h.state.last_contact_ms == h.now + 5000);
}

TEST_CASE("call state: an offer ends by its own id, a connect keeps the agent Twilio does not name") {
  history h;
  h.queued();
  h.on(call_offered{"CA1", "alice", "OF1", "support", 1, false, {}});
  h.on(call_offer_failed{"CA1", "alice", "OF0", "no-answer", 15'000, {}});  // an older offer's end
  CHECK(h.state.phase == call_phase::offered);
  CHECK(h.state.failed_in_row == 0);
  h.on(call_offer_failed{"CA1", "alice", "OF1", "no-answer", 15'000, {}});
  CHECK(h.state.phase == call_phase::queued);
  CHECK(h.state.failed_in_row == 1);
  h.on(call_offered{"CA1", "bob", "OF2", "support", 2, false, {}});
  h.on(call_connected{"CA1", "", "OF2", 30, 4000});
  CHECK(h.state.phase == call_phase::connected);
  CHECK(h.state.routing().agent_id == "bob");
  CHECK(h.state.failed_in_row == 0);
}

TEST_CASE("call state: a callback keeps the caller's place in line and starts a fresh round of agents") {
  history h;
  h.queued();
  int64_t queued = h.now;
  h.on(call_offered{"CA1", "alice", "OF1", "support", 1, false, {}});
  h.on(call_offer_failed{"CA1", "alice", "OF1", "no-answer", 15'000, {}});
  REQUIRE(h.state.routing().tried == std::vector<std::string>{"alice"});
  h.on(callback_requested{"CA1", "CB1", "+15551230001", "", "support", 1, 1, 60, 0});
  CHECK(h.state.phase == call_phase::callback_waiting);
  CHECK(h.state.enqueued_ms == queued);  // its place, not a new one
  CHECK(h.state.routing().callback_requested_ms == h.now);
  CHECK(h.state.routing().tried.empty());
}

TEST_CASE("call state: a callback due exactly now waits now, one due later is scheduled") {
  history now;
  now.queued();
  now.on(callback_requested{"CA1", "CB1", "+15551230001", "", "support", 1, 1, 60, now.now + 1000});
  CHECK(now.state.phase == call_phase::callback_waiting);
  history later;
  later.queued();
  later.on(callback_requested{"CA1", "CB1", "+15551230001", "", "support", 1, 1, 60, later.now + 1001});
  CHECK(later.state.phase == call_phase::callback_scheduled);
  CHECK(later.state.routing().callback_due_ms == later.now + 1);
}

TEST_CASE("call state: a refusal that offers a callback has not ended the call") {
  history offered;
  offered.on(call_arrived{"CA1", "+15551230001", "+15559990000", "support", "", 0, 1, {}, "", {}});
  offered.on(call_refused{"CA1", "support", "full", "callback", "", 0});
  CHECK(offered.state.phase == call_phase::deciding_callback);
  CHECK(offered.state.ended_ms == 0);
  history refused;
  refused.on(call_arrived{"CA1", "+15551230001", "+15559990000", "support", "", 0, 1, {}, "", {}});
  refused.on(call_refused{"CA1", "support", "full", "hangup", "", 0});
  CHECK(refused.state.phase == call_phase::refused);
  CHECK(refused.state.ended_ms == refused.now);
}

TEST_CASE("call state: callback attempts, each with its own leg, a failure only while dialing") {
  history h;
  h.queued();
  h.on(callback_requested{"CA1", "CB1", "+15551230001", "", "support", 1, 1, 60, 0});
  h.on(callback_failed{"CA1", "CB1", "alice", "no-answer", 1, false});  // not dialing: nothing
  CHECK(h.state.phase == call_phase::callback_waiting);
  CHECK(h.state.routing().tried.empty());
  h.on(callback_started{"CA1", "CB1", "alice", 1});
  h.on(callback_agent_answered{"CA1", "CB1", "alice", "CL1"});
  CHECK(h.state.routing().callback_leg_sid == "CL1");
  h.on(callback_failed{"CA1", "CB1", "alice", "customer-no-answer", 1, false});
  CHECK(h.state.phase == call_phase::callback_waiting);
  CHECK(h.state.routing().tried == std::vector<std::string>{"alice"});
  h.on(callback_agent_answered{"CA1", "CB1", "alice", "CL1"});  // a late notice of the old leg
  h.on(callback_started{"CA1", "CB1", "bob", 2});
  CHECK(h.state.routing().callback_leg_sid.empty());  // the new attempt has no leg yet
  CHECK(h.state.routing().agent_id == "bob");
  h.on(callback_escalated{"CA1", "CB1", 600});
  CHECK(h.state.callback_escalated);
  CHECK(h.state.escalated);  // ahead in line like an escalated call
}

TEST_CASE("call state: a state another holder has is copied before a change, never changed under it") {
  shared_call_state mine = std::make_shared<call_state>();
  mine->sid = "CA1";
  shared_call_state reader = mine;  // the read model's version
  shared_call_state let_go = make_own(mine);
  CHECK(let_go == reader);
  CHECK(mine != reader);
  mine->sid = "CA2";
  CHECK(reader->sid == "CA1");
  // The only holder again: changed in place, nothing copied.
  reader.reset();
  let_go.reset();
  call_state* same = mine.get();
  CHECK(make_own(mine) == nullptr);
  CHECK(mine.get() == same);
}
