#include "actors/agent/agent_actor.hpp"

#include "actors/agent/agent_logic.hpp"
#include "actors/answer_after.hpp"
#include "actors/messages.hpp"
#include "actors/outbox.hpp"

namespace callq {

namespace {

struct agent_actor_state {
  agent_state agent;
  std::shared_ptr<entity_env> env;
  outbox box;
  int64_t scheduled_due = 0;
  agent_view last_view;
  bool view_sent = false;
  bool removed = false;
  size_t awaiting = 0;  ///< rescinds whose calls have not answered yet
  heartbeat_board::cell heartbeat;  ///< its last heartbeat on the read model's board
  static inline const char* name = "callq.agent";
};

using self_ptr = caf::stateful_actor<agent_actor_state>*;

void maybe_stop(self_ptr self) {
  if (self->state.removed && self->state.box.idle() && self->state.awaiting == 0)
    self->quit();
}

caf::result<reply> run(self_ptr self, const agent_command& c) {
  auto& st = self->state;
  const entity_env& env = *st.env;
  int64_t now = env.clock->now_ms();
  auto d = decide(st.agent, c, env.rules, now, env.load && env.load->heartbeats_waiting());
  if (std::holds_alternative<cmd::heartbeat>(c) && !d.answer.failed()) {
    if (!st.heartbeat)
      st.heartbeat = env.reads->heartbeats().cell_of(st.agent.id);
    st.heartbeat->store(st.agent.last_heartbeat_ms, std::memory_order_relaxed);
  }
  if (!d.events.empty()) {
    journal_batch batch;
    // No expected version: an agent's stream outlives the agent (a removed
    // id can be created again, and its state counts from 1 then), so the
    // state's version is not the stream's. Its one writer is the actor the
    // registry spawns atomically (agent_or_spawn).
    batch.events = std::move(d.events);
    st.box.append(self, env.journal, env.gateway, std::move(batch), {}, [self] { maybe_stop(self); });
  }
  if (st.agent.removed && !st.removed) {
    st.removed = true;
    env.reg->remove_agent(st.agent.id);
    if (st.scheduled_due != 0) {  // a removed agent has no deadline left
      self->send(env.timers, schedule_atom::value, caf::actor_cast<caf::actor>(self), int64_t{0});
      st.scheduled_due = 0;
    }
    self->send(env.dispatcher, remove_atom::value, st.agent.id);
  } else if (!st.agent.removed) {
    agent_view v = view_of(st.agent, env.rules);
    if (!st.view_sent || !same_view(v, st.last_view)) {
      self->send(env.dispatcher, view_atom::value, v);
      st.last_view = v;
      st.view_sent = true;
    }
    int64_t due = next_deadline(st.agent, env.rules);
    if (due != st.scheduled_due) {  // a new deadline, or none (0: cancelled)
      self->send(env.timers, schedule_atom::value, caf::actor_cast<caf::actor>(self), due);
      st.scheduled_due = due;
    }
  }
  // Offers rescinded because the agent left: the calls record it before
  // the answer goes out.
  if (!d.rescinds.empty()) {
    std::vector<std::pair<caf::actor, caf::message>> asks;
    for (auto& [sid, r] : d.rescinds)
      asks.emplace_back(env.reg->call(sid), caf::make_message(command_atom::value, call_request{r, {}}));
    auto r = answer_after(self, st.box, std::move(asks), std::move(d.answer), &st.awaiting,
                          [self] { maybe_stop(self); });
    maybe_stop(self);
    return r;
  }
  // The dispatcher's reserve is answered at once: the call appends its
  // offer after this agent's `agent.offer_received` (the one journal keeps
  // that order), and nothing leaves the process before the call's offer is
  // durable, so a sync here would only add one to every offer's path.
  if (std::holds_alternative<cmd::reserve>(c)) {
    maybe_stop(self);
    return std::move(d.answer);
  }
  auto r = answer_when_durable(self, st.box, std::move(d.answer));
  maybe_stop(self);
  return r;
}

caf::behavior agent_actor(self_ptr self, std::shared_ptr<entity_env> env, agent_state state) {
  self->state.env = std::move(env);
  self->state.agent = std::move(state);
  return {
      [=](command_atom, agent_request& req) -> caf::result<reply> { return run(self, req.command); },
      [=](tick_atom) -> caf::result<reply> {
        // A timer is decided only after every message already waiting in
        // this mailbox: the tick goes round it once (a request to itself
        // joins the end of the line). So a heartbeat that waits in line
        // behind the tick counts before its expiry is judged, and no agent
        // is expired while its heartbeat waits to be handled.
        auto rp = self->make_response_promise();
        self->request(caf::actor_cast<caf::actor>(self), caf::infinite, due_atom::value)
            .then([rp](reply& r) mutable { rp.deliver(std::move(r)); },
                  [rp](caf::error& e) mutable { rp.deliver(std::move(e)); });
        return rp;
      },
      [=](due_atom) -> caf::result<reply> {
        self->state.scheduled_due = 0;
        return run(self, cmd::tick{});
      },
      [=](digest_atom) {
        // The durable state's text, and whether a reservation is open.
        const auto& a = self->state.agent;
        return digest_text(a) + (a.reservation != 0 ? "|reserved" : "");
      },
  };
}

}  // namespace

caf::actor spawn_agent(caf::actor_system& sys, std::shared_ptr<entity_env> env,
                       agent_state state) {
  return sys.spawn(agent_actor, std::move(env), std::move(state));
}

}  // namespace callq
