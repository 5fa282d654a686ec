#include "actors/call/call_actor.hpp"

#include <deque>
#include <unordered_map>

#include "actors/answer_after.hpp"
#include "actors/call/call_logic.hpp"
#include "actors/messages.hpp"
#include "actors/outbox.hpp"
#include "actors/reply_codec.hpp"
#include "actors/world/call_context.hpp"

namespace callq {

namespace {

struct call_actor_state {
  /// Shared with the read model once durable (make_own() before a change).
  shared_call_state call;
  /// The registry's copy of the CallSid, shared with the timer service's
  /// deadline and the dispatcher's view (call_sid.hpp).
  call_sid sid;
  std::shared_ptr<entity_env> env;
  outbox box;
  int64_t scheduled_due = 0;
  /// Passivation: when this actor last handled more than an idle tick,
  /// and when the timer service is to ask it next whether it is idle (0:
  /// not asked).
  int64_t active_ms = 0;
  int64_t idle_check_at = 0;
  bool finished = false;
  size_t awaiting = 0;  ///< notices whose agents have not answered yet
  /// Legacy routing: the voice webhook's answer waits for the dispatcher,
  /// with the answer to give if it has no agent.
  struct direct_wait {
    caf::response_promise promise;
    reply fallback;
  };
  /// Only while the webhook waits (a promise and a reply are 400 bytes;
  /// most calls never need them kept).
  std::unique_ptr<direct_wait> direct;
  /// Answers of recent requests by idempotency key (retries that arrive
  /// before the first answer's events are in the idempotency store).
  /// Allocated on the first request that carries a key (most calls' never
  /// do): a queued call's actor stays small.
  struct recent_answers {
    std::unordered_map<std::string, reply> by_key;
    std::vector<std::string> order;  ///< oldest first, at most 16
  };
  std::unique_ptr<recent_answers> recent;
  static inline const char* name = "callq.call";
};

using self_ptr = caf::stateful_actor<call_actor_state>*;

call_context context_for(const call_actor_state& st, const call_command& c, int64_t now,
                         const world& w) {
  const entity_env& env = *st.env;
  return call_context_for(*st.call, c, now, env.rules, w, *env.ids);
}

void maybe_stop(self_ptr self) {
  auto& st = self->state;
  if (st.finished && st.box.idle() && !st.direct && st.awaiting == 0) {
    st.env->reg->final_state_durable(st.call->sid);  // late retries read the log now
    self->quit();
  }
}

/// Whether passivation is on and the call waits for something that may
/// take long.
bool waits_long(const call_actor_state& st) {
  return st.env->passivate_after_ms > 0 && !st.finished && waits_long(st.call->phase);
}

/// Whether the call waits long and nothing of its own is under way.
bool may_passivate(const call_actor_state& st) {
  return waits_long(st) && !st.direct && st.awaiting == 0 && st.box.idle();
}

/// When the timer service is to ask, once idle long enough, whether to
/// passivate; 0 if no new check is needed (one is pending, or the call
/// does not wait long). The caller sends it.
int64_t next_idle_check(call_actor_state& st, int64_t now) {
  if (st.idle_check_at != 0 || !waits_long(st))
    return 0;
  st.idle_check_at = std::max(now, st.active_ms) + st.env->passivate_after_ms;
  return st.idle_check_at;
}

/// Has the timer service ask, once idle long enough, whether to passivate.
void plan_idle_check(self_ptr self, int64_t now) {
  if (int64_t at = next_idle_check(self->state, now))
    self->send(self->state.env->timers, passivate_atom::value, self->state.sid, at);
}

caf::behavior forwarding(self_ptr self);

/// Idle long enough: hands the call to the registry and stops, the
/// messages already in the mailbox handed on to its next actor.
void passivate(self_ptr self) {
  auto& st = self->state;
  if (!st.env->reg->passivate(st.sid, caf::actor_cast<caf::actor>(self), st.call,
                              st.scheduled_due))
    return;
  self->become(forwarding(self));
  // Behind whatever is already in the mailbox: none of it is lost.
  self->send(self, retire_atom::value);
}

void remember(call_actor_state& st, const std::string& key, const reply& r) {
  if (key.empty())
    return;
  if (!st.recent)
    st.recent = std::make_unique<call_actor_state::recent_answers>();
  auto& rec = *st.recent;
  if (rec.by_key.insert_or_assign(key, r).second)
    rec.order.push_back(key);
  while (rec.order.size() > 16) {
    rec.by_key.erase(rec.order.front());
    rec.order.erase(rec.order.begin());
  }
}

/// Legacy routing: answers the voice webhook held for the dispatcher with
/// `answer` once this call's events are durable.
void deliver_direct(self_ptr self, reply answer) {
  auto& st = self->state;
  caf::response_promise rp = std::move(st.direct->promise);
  st.direct.reset();
  ++st.awaiting;  // the actor stays until the answer is out
  st.box.when_durable([self, rp = std::move(rp), answer = std::move(answer)](
                          const std::string& error) mutable {
    rp.deliver(durable_answer(std::move(answer), error));
    --self->state.awaiting;
    maybe_stop(self);
  });
}

/// Runs one command: decide, append, notify, update the dispatcher and the
/// timers. Returns the answer (possibly later, through a promise).
caf::result<reply> run(self_ptr self, call_request& req) {
  auto& st = self->state;
  const entity_env& env = *st.env;
  if (!req.idempotency_key.empty() && st.recent)
    if (auto i = st.recent->by_key.find(req.idempotency_key); i != st.recent->by_key.end())
      return answer_when_durable(self, st.box, i->second);
  int64_t now = env.clock->now_ms();
  uint64_t version_before = st.call->version;
  make_own(st.call);  // the read model may hold this version
  // One version of the read model for the decision and its next deadline,
  // let go of at once: a version a reader holds is one the journal cannot
  // reuse (read_model.hpp).
  std::shared_ptr<const world> facts = env.reads->version();
  auto d = decide(*st.call, req.command, context_for(st, req.command, now, *facts));
  int64_t due = next_deadline(*st.call, env.rules, facts->config_of(st.call->queue), now);
  facts.reset();
  bool direct_take = false;
  if (auto* t = std::get_if<cmd::take_offer>(&req.command); t && t->direct)
    direct_take = true;

  if (!d.events.empty()) {
    for (auto& e : d.events) {
      if (auto* o = std::get_if<events::call_offered>(&e.body))
        env.reg->add_offer(o->offer_id, st.call->sid);
      else if (auto* r = std::get_if<events::callback_requested>(&e.body))
        env.reg->add_offer(r->callback_id, st.call->sid);
      else if (auto* b = std::get_if<events::callback_scheduled>(&e.body))
        env.reg->add_offer(b->callback_id, st.call->sid);
    }
    journal_batch batch;
    batch.call_after = st.call;
    // This actor is its stream's one writer: the log must be where the
    // state it decided on says (a fresh actor for a call whose stream
    // exists is refused there, never a second call.arrived).
    batch.expect.push_back({events::stream_of(d.events.front().body), version_before});
    batch.events = std::move(d.events);
    if (!req.idempotency_key.empty() && d.answer.is_voice() && !d.wants_direct_agent)
      batch.idempotency.emplace_back(req.idempotency_key, encode_voice_reply(d.answer.voice()));
    bool fresh = version_before == 0;
    st.box.append(self, env.journal, env.gateway, std::move(batch), std::move(d.jobs), [self, fresh] {
      // A fresh actor whose first append was refused: its stream exists
      // (a finished call), so this actor holds nothing real. It leaves.
      auto& s = self->state;
      if (fresh && s.box.failures() > 0 && !s.finished) {
        s.finished = true;
        s.env->reg->forget_call(s.call->sid, caf::actor_cast<caf::actor>(self));
      }
      maybe_stop(self);
    });
  }
  remember(st, req.idempotency_key, d.answer);

  // The dispatcher learns of every change (and of every tick: a rest may
  // have ended), unless the voice webhook asks it for an agent directly.
  if (d.wants_direct_agent) {
    self->send(env.dispatcher, direct_atom::value, view_of(*st.call, env.rules, st.sid));
  } else if (st.call->version != version_before || std::holds_alternative<cmd::tick>(req.command)) {
    self->send(env.dispatcher, view_atom::value, view_of(*st.call, env.rules, st.sid));
  }
  // A tick that changed nothing is not activity: an idle call is still
  // passivated on time.
  if (!std::holds_alternative<cmd::tick>(req.command) || st.call->version != version_before)
    st.active_ms = now;
  int64_t idle_check = next_idle_check(st, now);
  if (due != st.scheduled_due) {  // a new deadline, or none (0: cancelled)
    // The idle check, if any, rides along: one message to the timers.
    if (idle_check != 0)
      self->send(env.timers, schedule_atom::value, st.sid, due, idle_check);
    else
      self->send(env.timers, schedule_atom::value, st.sid, due);
    st.scheduled_due = due;
  } else if (idle_check != 0) {
    self->send(env.timers, passivate_atom::value, st.sid, idle_check);
  }
  if (is_finished(st.call->phase) && !st.finished) {
    st.finished = true;
    env.reg->finish_call(st.call);
  }

  // Legacy routing: answer the voice webhook once the dispatcher has an
  // agent (take_offer, direct) or has none (nodirect_atom).
  if (direct_take && st.direct) {
    if (auto* a = std::get_if<offer_answer>(&d.answer.body); a && a->taken) {
      voice_reply v;
      v.what = voice_reply::kind::dial_agent;
      v.offer_id = a->offer_id;
      v.identity = st.call->routing().agent_identity;
      deliver_direct(self, reply::twiml(v));
    } else {
      deliver_direct(self, std::move(st.direct->fallback));
    }
  }
  if (d.wants_direct_agent) {
    st.direct = std::make_unique<call_actor_state::direct_wait>(
        call_actor_state::direct_wait{self->make_response_promise(), std::move(d.answer)});
    return st.direct->promise;
  }

  // The agents this decision told something must have submitted their
  // side before the answer goes out.
  if (!d.notices.empty()) {
    std::vector<std::pair<caf::actor, caf::message>> asks;
    for (auto& n : d.notices)
      asks.emplace_back(env.reg->agent(n.agent_id),
                        caf::make_message(command_atom::value, agent_request{cmd::offer_update{n}}));
    auto r = answer_after(self, st.box, std::move(asks), std::move(d.answer), &st.awaiting,
                          [self] { maybe_stop(self); });
    maybe_stop(self);
    return r;
  }
  // The dispatcher's take_offer is answered at once: its answer leaves no
  // process (the redirect is held by the outbox until durable), and a
  // sync here would add one to every offer's path.
  if (std::holds_alternative<cmd::take_offer>(req.command)) {
    maybe_stop(self);
    return std::move(d.answer);
  }
  auto r = answer_when_durable(self, st.box, std::move(d.answer));
  maybe_stop(self);
  return r;
}

caf::behavior call_actor(self_ptr self, std::shared_ptr<entity_env> env, call_sid sid,
                         shared_call_state state, int64_t due) {
  self->state.env = std::move(env);
  self->state.sid = std::move(sid);
  self->state.call = std::move(state);
  self->state.scheduled_due = due;
  return {
      [=](command_atom, call_request& req) -> caf::result<reply> { return run(self, req); },
      [=](tick_atom) -> caf::result<reply> {
        self->state.scheduled_due = 0;
        call_request req{cmd::tick{}, {}};
        return run(self, req);
      },
      [=](digest_atom) { return digest_text(*self->state.call); },
      [=](nodirect_atom) {
        auto& st = self->state;
        if (st.direct) {
          deliver_direct(self, std::move(st.direct->fallback));
          maybe_stop(self);
        }
      },
      [=](passivate_atom) -> reply {
        auto& st = self->state;
        st.idle_check_at = 0;
        int64_t now = st.env->clock->now_ms();
        if (may_passivate(st) && now - st.active_ms >= st.env->passivate_after_ms)
          passivate(self);
        else
          plan_idle_check(self, now);  // asked again once idle long enough
        return reply{};
      },
  };
}

/// A passivated call's actor until it stops: what was already in its
/// mailbox goes to the call's next actor (woken for it).
caf::behavior forwarding(self_ptr self) {
  auto next = [self] { return self->state.env->reg->call(self->state.sid); };
  return {
      [=](command_atom a, call_request& req) -> caf::result<caf::message> {
        if (auto to = next())
          return self->delegate(to, a, std::move(req));
        return caf::make_message(
            reply::fail(outcome::unavailable, "call " + self->state.call->sid + " has ended"));
      },
      [=](tick_atom a) -> caf::result<caf::message> {
        if (auto to = next())
          return self->delegate(to, a);
        return caf::make_message(reply{});
      },
      [=](digest_atom a) -> caf::result<caf::message> {
        if (auto to = next())
          return self->delegate(to, a);
        return caf::make_message(digest_text(*self->state.call));
      },
      [=](nodirect_atom a) {
        if (auto to = next())
          self->send(to, a);
      },
      [=](passivate_atom) -> reply { return reply{}; },
      [=](retire_atom) { self->quit(); },
  };
}

}  // namespace

caf::actor spawn_call(caf::actor_system& sys, std::shared_ptr<entity_env> env, call_sid sid,
                      call_state state) {
  // Lazily: the actor is first scheduled by its first message (its first
  // command, always sent at once), not also for its start, which cost
  // every new call one more trip through the scheduler.
  return sys.spawn<caf::lazy_init>(call_actor, std::move(env), std::move(sid),
                                   std::make_shared<call_state>(std::move(state)), int64_t{0});
}

caf::actor wake_call(caf::actor_system& sys, std::shared_ptr<entity_env> env, call_sid sid,
                     shared_call_state state, int64_t due) {
  return sys.spawn<caf::lazy_init>(call_actor, std::move(env), std::move(sid), std::move(state),
                                   due);
}

bool waits_long(call_phase p) {
  switch (p) {
    case call_phase::queued:
    case call_phase::callback_waiting:
    case call_phase::callback_scheduled:
      return true;
    default:
      return false;
  }
}

reply answer_finished(call_state final, const call_command& c, const entity_env& env) {
  call_context ctx;
  ctx.rules = &env.rules;
  ctx.now_ms = env.clock->now_ms();
  return decide(final, c, ctx).answer;
}

}  // namespace callq
