// A contact centre's history made by callq's own runtime (the actor
// harness: real actors, a real log, virtual time) with a scripted Twilio
// and scripted people: Poisson arrivals, exponential handle times and
// patience, agents who answer after a ring time (some offers not at all;
// paused by callq after too many, they come back a minute later), and
// agents who take breaks. For the simulation's tests and benchmark.
#pragma once

#include <cstdint>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "tests/actor_harness.hpp"

namespace callq::testing {

struct history_shape {
  int agents = 3;
  int callers = 200;
  double load = 0.9;             ///< offered load per agent
  int64_t handle_ms = 180'000;   ///< mean
  int64_t patience_ms = 240'000; ///< mean
  int64_t ring_ms = 3'000;       ///< each answer's ring time (uniform 0..2x)
  double no_answer = 0;          ///< share of offers an agent lets ring out
  /// Every `break_every`-th agent takes a 20-minute break an hour in (0:
  /// nobody).
  int break_every = 0;
  uint64_t seed = 1;
};

/// The policy the generated histories run under: no heartbeats (agents
/// are present as scripted), no callback offers, waits up to a day.
inline policy history_policy() {
  policy p;
  p.feature_agent_heartbeat = false;
  p.feature_callback_request_system = false;
  p.max_queue_wait_ms = 24LL * 3600 * 1000;
  p.orphan_after_ms = 24LL * 3600 * 1000;
  return p;
}

/// Runs `shape` on `x` from its current time; returns when every call has
/// ended. `x.now` is then the end.
inline void generate_history(actor_harness& x, const history_shape& shape) {
  for (int a = 0; a < shape.agents; ++a)
    x.add_ready_agent("a" + std::to_string(a));
  std::mt19937_64 rng(shape.seed * 104729 + 7);
  std::exponential_distribution<double> gap(shape.load * shape.agents / static_cast<double>(shape.handle_ms));
  std::exponential_distribution<double> service(1.0 / static_cast<double>(shape.handle_ms));
  std::exponential_distribution<double> patience(1.0 / static_cast<double>(shape.patience_ms));
  std::uniform_int_distribution<int64_t> ring(0, 2 * shape.ring_ms);
  std::uniform_real_distribution<double> unit(0, 1);

  enum class kind { arrive, answer, complete, abandon, break_start, break_end, resume };
  struct step {
    int64_t at;
    uint64_t order;
    kind what;
    std::string id, offer, agent;
    bool operator>(const step& o) const { return at != o.at ? at > o.at : order > o.order; }
  };
  std::priority_queue<step, std::vector<step>, std::greater<step>> due;
  uint64_t order = 0;
  auto push = [&](int64_t at, kind k, std::string id, std::string offer = {}, std::string agent = {}) {
    due.push({at, ++order, k, std::move(id), std::move(offer), std::move(agent)});
  };
  int64_t t = x.now + 1000;
  for (int i = 0; i < shape.callers; ++i) {
    t += static_cast<int64_t>(gap(rng)) + 1;
    push(t, kind::arrive, "CA" + std::to_string(i));
  }
  if (shape.break_every > 0)
    for (int a = 0; a < shape.agents; a += shape.break_every) {
      push(x.now + 3'600'000, kind::break_start, "a" + std::to_string(a));
      push(x.now + 3'600'000 + 1'200'000, kind::break_end, "a" + std::to_string(a));
    }
  std::map<std::string, std::string> offer_of;  ///< connected call -> offer
  // After each command: every new offer rings its agent, who answers
  // after a ring time (or lets it ring out); every connection talks.
  // Every event since the last look (the dispatcher's offers may be
  // appended after the command that caused them has been answered).
  uint64_t seen = x.rt().log().last_seq();
  std::vector<events::event> fresh;
  auto follow = [&] {
    fresh.clear();
    x.rt().log().scan(seen + 1, [&](const events::envelope& e) {
      fresh.push_back(e.ev);
      seen = e.seq;
      return true;
    });
    for (auto& e : fresh) {
      if (auto* o = std::get_if<events::call_offered>(&e.body)) {
        if (unit(rng) >= shape.no_answer)
          push(x.now + ring(rng), kind::answer, o->call_sid, o->offer_id, o->agent_id);
      } else if (auto* c = std::get_if<events::call_connected>(&e.body)) {
        offer_of[c->call_sid] = c->offer_id;
        push(x.now + static_cast<int64_t>(service(rng)) + 1000, kind::complete, c->call_sid);
      } else if (auto* p = std::get_if<events::agent_paused>(&e.body)) {
        push(x.now + 60'000, kind::resume, p->agent_id);  // the agent notices a minute later
      } else if (auto* q = std::get_if<events::call_enqueued>(&e.body)) {
        push(x.now + static_cast<int64_t>(patience(rng)) + 1, kind::abandon, q->call_sid);
      }
    }
  };
  auto run = [&](cmd::command c) {
    x.run(std::move(c));
    follow();
  };
  while (!due.empty()) {
    step s = due.top();
    due.pop();
    if (s.at > x.now)
      x.now = s.at;
    const world& w = x.state();
    const call_state* c = w.find_call(s.id);
    switch (s.what) {
      case kind::arrive:
        x.run(cmd::incoming_call{s.id, "+1555" + std::to_string(1000000 + std::stoi(s.id.substr(2))),
                                 "+15559999999", "support", "", std::nullopt});
        follow();
        break;
      case kind::answer:
        if (c && c->phase == call_phase::offered && c->routing().offer_id == s.offer)
          run(cmd::agent_leg_status{s.offer, "in-progress", s.agent});

        break;
      case kind::complete:
        if (c && c->phase == call_phase::connected)
          run(cmd::dial_result{offer_of[s.id], "completed", "in-progress", (x.now - c->routing().connected_ms) / 1000});
        break;
      case kind::abandon:
        if (c && c->in_line())
          run(cmd::call_status{s.id, "completed"});
        break;
      case kind::break_start:
        run(cmd::heartbeat{s.id, "hash-" + s.id, "break", true, "lunch"});
        break;
      case kind::break_end:
        run(cmd::heartbeat{s.id, "hash-" + s.id, "available", true});
        break;
      case kind::resume:  // out of callq's pause: a status, then ready
        run(cmd::heartbeat{s.id, "hash-" + s.id, "busy", true});
        run(cmd::heartbeat{s.id, "hash-" + s.id, "available", true});
        break;
    }
    // Let the call's own timers (offer timeouts, wrap-up ends) fire up to
    // the next scripted moment.
    int64_t ticked_at = -1;
    while (true) {
      int64_t next = due.empty() ? x.now + 3'600'000 : due.top().at;
      const world& now_w = x.state();
      int64_t soonest = 0;
      auto consider = [&](int64_t d) {
        if (d > 0 && (d > x.now || ticked_at != x.now) && (soonest == 0 || d < soonest))
          soonest = d;
      };
      for (auto& [sid, call] : now_w.calls())
        consider(next_deadline(*call, x.rules(), now_w.config_of(call->queue), x.now));
      for (auto& [id, a] : now_w.agents())
        consider(next_deadline(a, x.rules()));
      if (soonest == 0 || soonest >= next)
        break;
      x.now = std::max(x.now, soonest);
      ticked_at = x.now;
      x.run(cmd::tick{});
      follow();
    }
  }
}

}  // namespace callq::testing
