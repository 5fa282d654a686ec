#include "actors/call/call_logic.hpp"

#include <catch2/catch.hpp>

#include "tests/event_counts.hpp"

using namespace callq;
using namespace callq::events;
using kind = voice_reply::kind;

namespace {

/// One call's decisions in virtual time, with a fixed line position.
struct call_fixture {
  policy rules;
  call_state c;
  int64_t now = 1'795'608'000'000;
  int64_t position = 1;
  int callbacks = 0;
  call_decision last;

  reply run(const call_command& x) {
    call_context ctx;
    ctx.rules = &rules;
    ctx.now_ms = now;
    ctx.position_of = [this](const std::string&, const line_key&) { return position; };
    ctx.order = 7;
    ctx.next_callback_id = [this] { return "CB" + std::to_string(++callbacks); };
    last = decide(c, x, ctx);
    return last.answer;
  }
  template <class T> int count() const { return callq::testing::count_of<T>(last.events); }
};

}  // namespace

TEST_CASE("call: arrival records and enqueues, and replaying its events gives the same state") {
  call_fixture f;
  f.position = 3;
  auto r = f.run(cmd::incoming_call{"CA1", "+15551234567", "+15559999999", "support", "", 5});
  REQUIRE(r.is_voice());
  CHECK(r.voice().what == kind::enqueue);
  CHECK(r.voice().greet);
  REQUIRE(f.last.events.size() == 2);
  CHECK(std::get<call_arrived>(f.last.events[0].body).order == 7);
  CHECK(std::get<call_enqueued>(f.last.events[1].body).position == 3);
  CHECK(f.c.phase == call_phase::queued);
  CHECK(f.c.priority == 5);
  CHECK(f.c.version == 2);
  call_state replayed;
  for (auto& e : f.last.events)
    apply(replayed, e);
  CHECK(digest_text(replayed) == digest_text(f.c));
  // A retry appends nothing and answers the same.
  auto again = f.run(cmd::incoming_call{"CA1", "+15551234567", "+15559999999", "support", "", 5});
  CHECK(f.last.events.empty());
  CHECK(again.voice() == r.voice());
}

TEST_CASE("call: taking an offer writes it and asks for the redirect; a second is refused") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  auto r = f.run(cmd::take_offer{"OF1", "alice", "client-alice", false});
  REQUIRE(std::holds_alternative<offer_answer>(r.body));
  CHECK(std::get<offer_answer>(r.body).taken);
  CHECK(f.c.phase == call_phase::offered);
  REQUIRE(f.last.jobs.size() == 1);
  CHECK(f.last.jobs[0].what == rest_job::kind::redirect_call);
  CHECK(f.last.jobs[0].offer_id == "OF1");
  CHECK_FALSE(view_of(f.c, f.rules).dispatchable);
  r = f.run(cmd::take_offer{"OF2", "bob", "client-bob", false});
  CHECK(r.result == outcome::conflict);
  CHECK(f.last.events.empty());
  // connect-agent dials the agent who took it.
  r = f.run(cmd::connect_agent{"OF1"});
  CHECK(r.voice().what == kind::dial_agent);
  CHECK(r.voice().identity == "client-alice");
}

TEST_CASE("call: a no-answer fails the offer, tells the agent it missed, and the call waits again") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  f.run(cmd::take_offer{"OF1", "alice", "client-alice", false});
  auto r = f.run(cmd::dial_result{"OF1", "no-answer", "in-progress", 0});
  CHECK(r.voice().what == kind::enqueue);
  CHECK(f.count<call_offer_failed>() == 1);
  REQUIRE(f.last.notices.size() == 1);
  CHECK(f.last.notices[0].what == offer_notice::kind::ended);
  CHECK(f.last.notices[0].missed);
  CHECK(f.c.tried == std::vector<std::string>{"alice"});
  CHECK(view_of(f.c, f.rules).dispatchable);
  // A caller hanging up while ringing does not count against the agent.
  f.run(cmd::take_offer{"OF2", "bob", "client-bob", false});
  f.run(cmd::queue_left{"CA1", "hangup"});
  REQUIRE(f.last.notices.size() == 1);
  CHECK_FALSE(f.last.notices[0].missed);
  CHECK(f.c.phase == call_phase::abandoned);
}

TEST_CASE("call: an offer nobody reports on times out at OFFER_TIMEOUT + 10 s") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  f.run(cmd::take_offer{"OF1", "alice", "client-alice", false});
  CHECK(next_deadline(f.c, f.rules) == f.now + 30'000);
  f.now += 29'999;
  f.run(cmd::tick{});
  CHECK(f.c.phase == call_phase::offered);
  f.now += 1;
  f.run(cmd::tick{});
  CHECK(f.c.phase == call_phase::queued);
  REQUIRE(f.count<call_offer_failed>() == 1);
  CHECK(std::get<call_offer_failed>(f.last.events[0].body).reason == "timeout");
}

TEST_CASE("call: the agent side rescinding fails the offer without telling the agent back") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  f.run(cmd::take_offer{"OF1", "alice", "client-alice", false});
  f.run(cmd::rescind_offer{"OF1", "agent-removed"});
  CHECK(f.c.phase == call_phase::queued);
  CHECK(f.last.notices.empty());
  f.run(cmd::rescind_offer{"OF1", "agent-removed"});  // stale: nothing
  CHECK(f.last.events.empty());
}

TEST_CASE("call: connected, then completed: the agent hears answered, then finished") {
  call_fixture f;
  f.run(cmd::incoming_call{"CA1", "+15551234567", "+1", "support", "", std::nullopt});
  f.run(cmd::take_offer{"OF1", "alice", "client-alice", false});
  f.now += 5000;
  f.run(cmd::agent_leg_status{"OF1", "in-progress"});
  REQUIRE(f.last.notices.size() == 1);
  CHECK(f.last.notices[0].what == offer_notice::kind::answered);
  f.now += 60'000;
  auto r = f.run(cmd::dial_result{"OF1", "completed", "in-progress", 60});
  CHECK(r.voice().what == kind::hangup);
  CHECK(f.c.phase == call_phase::completed);
  REQUIRE(f.last.notices.size() == 1);
  CHECK(f.last.notices[0].what == offer_notice::kind::finished);
  CHECK(next_deadline(f.c, f.rules) == 0);
}
