#include "actors/dispatcher/dispatcher_actor.hpp"

#include <deque>

#include "actors/answer_after.hpp"
#include "actors/dispatcher/match_index.hpp"
#include "actors/dispatcher/offer_commands.hpp"
#include "actors/messages.hpp"
#include "actors/outbox.hpp"

namespace callq {

namespace {

struct dispatcher_state {
  std::shared_ptr<entity_env> env;
  std::unique_ptr<match_index> index;
  std::map<std::string, queue_config> configured;  ///< the queue/<name> streams' state
  /// Reservations under way: each holds its call and agents out of the
  /// index until it ends, so any number run at once over disjoint calls
  /// and agents (README, "Offers in parallel").
  size_t in_flight = 0;
  uint64_t reservations = 0;
  std::deque<call_sid> direct;  ///< legacy: calls asking for an agent now
  bool sweeping = false;
  /// Until start-up's recovery is done (recovered_atom), nothing is matched.
  bool recovering = true;
  int64_t swept = 0;
  std::vector<caf::response_promise> sweep_waiters;
  outbox box;  ///< the queue/<name> streams' appends
  static inline const char* name = "callq.dispatcher";
};

using self_ptr = caf::stateful_actor<dispatcher_state>*;

constexpr auto step_timeout = std::chrono::seconds(5);

void try_next(self_ptr self);

/// The reservation for `m` ended (whichever way): both sides may match
/// again with their newest views.
void finish(self_ptr self, const match& m) {
  self->state.index->release(m);
  --self->state.in_flight;
  try_next(self);
}

/// One offer under way: the match, the agents to reserve (a ring-all's
/// several) and those that did.
struct offer_run {
  match m;
  bool direct = false;
  uint64_t reservation = 0;
  std::string offer_id;
  std::vector<std::pair<std::string, std::string>> legs;  ///< (agent id, identity)
  std::vector<caf::actor> agents;                          ///< each leg's actor
  std::vector<size_t> reserved;                            ///< legs that reserved
  int64_t take_by_ms = 0;  ///< the call takes the offer by then (cmd::take_offer)
};

/// Every leg has answered its reservation: the call takes the offer to
/// the agents that reserved (the first leads), who are then confirmed, or
/// released when the call cannot.
void take_offer(self_ptr self, std::shared_ptr<offer_run> run) {
  const offer_run& o = *run;
  const entity_env& env = *self->state.env;
  // Looked up now, not when the run began: the call may have been
  // passivated while its agents reserved (then it is woken).
  caf::actor call = env.reg->call(o.m.call_sid);
  if (o.reserved.empty()) {
    if (o.direct && call)
      self->send(call, nodirect_atom::value);
    return finish(self, o.m);
  }
  cmd::take_offer take = take_offer_of(o.m, o.offer_id, o.legs, o.reserved, o.direct, o.take_by_ms);
  auto tell_agents = [self, run](auto make_command) {
    for (size_t i : run->reserved)
      caf::anon_send(run->agents[i], command_atom::value, agent_request{make_command()});
  };
  uint64_t r = o.reservation;
  if (!call) {  // finished meanwhile
    ++env.dispatch->calls_refused;
    tell_agents([r] { return cmd::release_reservation{r, "call-gone"}; });
    return finish(self, run->m);
  }
  self->request(call, step_timeout, command_atom::value, call_request{std::move(take), {}})
      .then(
          [=](reply& taken) {
            auto* a = std::get_if<offer_answer>(&taken.body);
            if (a != nullptr && a->taken) {
              tell_agents([r] { return cmd::confirm_reservation{r}; });
            } else {
              ++self->state.env->dispatch->calls_refused;
              tell_agents([r] { return cmd::release_reservation{r, "call-gone"}; });
            }
            finish(self, run->m);
          },
          [=](caf::error&) {
            // No word from the call: the agents' reservations end (they
            // would time out by themselves too).
            ++self->state.env->dispatch->calls_refused;
            tell_agents([r] { return cmd::release_reservation{r, "call-silent"}; });
            finish(self, run->m);
          });
}

/// Reserves every leg at once (a ring-all's several), then, once all have
/// answered, takes the offer to those that reserved (in leg order).
void reserve_all(self_ptr self, std::shared_ptr<offer_run> run) {
  auto left = std::make_shared<size_t>(0);
  auto answered = [self, run, left] {
    if (--*left > 0)
      return;
    std::sort(run->reserved.begin(), run->reserved.end());
    take_offer(self, run);
  };
  for (size_t i = 0; i < run->legs.size(); ++i)
    if (run->agents[i])
      ++*left;
  if (*left == 0)
    return take_offer(self, std::move(run));
  for (size_t i = 0; i < run->legs.size(); ++i) {
    if (!run->agents[i])
      continue;
    self->request(run->agents[i], step_timeout, command_atom::value,
                  agent_request{reserve_of(run->m, run->reservation, run->offer_id, run->m.agent_checks)})
        .then(
            [=](reply& reserved) {
              if (!reserved.failed())
                run->reserved.push_back(i);
              else
                ++self->state.env->dispatch->legs_refused;
              answered();
            },
            [=](caf::error&) {
              ++self->state.env->dispatch->legs_refused;
              answered();
            });
  }
}

void run_protocol(self_ptr self, const match& m, bool direct) {
  auto& st = self->state;
  const entity_env& env = *st.env;
  caf::actor agent = env.reg->agent(m.agent_id);
  bool open = env.reg->has_call(m.call_sid);  // running or passivated
  if (!agent || !open) {
    st.index->release(m);
    if (!agent)
      st.index->remove_agent(m.agent_id);
    if (!open)
      st.index->remove_call(m.call_sid);
    if (direct && open)
      if (caf::actor call = env.reg->call(m.call_sid))
        self->send(call, nodirect_atom::value);
    return;
  }
  ++st.in_flight;
  ++env.dispatch->reservations;
  auto run = std::make_shared<offer_run>();
  run->m = m;
  run->direct = direct;
  run->reservation = ++st.reservations;
  run->offer_id = m.callback ? m.callback_id : env.ids->next_offer_id();
  // Asked now, each agent holds its reservation for reservation_timeout_ms
  // from a moment no earlier than this: half of it for the call to take
  // the offer, half for the confirm to come back.
  run->take_by_ms = env.clock->now_ms() + env.rules.reservation_timeout_ms / 2;
  run->legs = legs_of(m);
  run->agents.push_back(agent);
  for (auto& leg : m.also)  // ring-all: a missing actor is simply not rung
    run->agents.push_back(env.reg->agent(leg.first));
  reserve_all(self, std::move(run));
}

/// A sweep is answered once nothing is left to match and no reservation
/// it may have started is under way.
void settle_waiters(self_ptr self) {
  auto& st = self->state;
  if (st.in_flight > 0)
    return;
  if (st.sweeping) {
    st.sweeping = false;
    sweep_answer a{st.swept, static_cast<int64_t>(st.index->waiting()),
                   static_cast<int64_t>(st.index->ready())};
    for (auto& rp : st.sweep_waiters)
      rp.deliver(reply::of(a));
    st.sweep_waiters.clear();
  }
}

void try_next(self_ptr self) {
  auto& st = self->state;
  if (st.recovering)
    return;
  int64_t now = st.env->clock->now_ms();
  for (;;) {
    if (!st.direct.empty()) {
      call_sid sid = std::move(st.direct.front());
      st.direct.pop_front();
      if (auto m = st.index->direct(sid, now)) {
        run_protocol(self, *m, true);
      } else if (caf::actor call = st.env->reg->call(sid)) {
        self->send(call, nodirect_atom::value);
      }
      continue;
    }
    auto m = st.index->next(now, st.sweeping);
    if (!m)
      break;
    if (st.sweeping)
      ++st.swept;
    run_protocol(self, *m, false);
  }
  settle_waiters(self);
}

caf::behavior dispatcher(self_ptr self, std::shared_ptr<entity_env> env, dispatcher_start start) {
  self->state.index = std::make_unique<match_index>(env->rules, start.seed);
  self->state.env = std::move(env);
  for (auto& [name, c] : start.configs)
    self->state.index->configure(name, &c);
  for (auto& [name, id] : start.last_offered)
    self->state.index->set_last_offered(name, id);
  self->state.configured = std::move(start.configs);
  return {
      [=](command_atom, queue_request& req) -> caf::result<reply> {
        auto& st = self->state;
        const std::string& name = std::visit([](auto& x) -> const std::string& { return x.queue; },
                                             req.command);
        auto d = decide_queue(st.configured, req.command, st.index->in_use(name),
                              st.env->clock->now_ms());
        if (d.events.empty())
          return d.answer;
        for (auto& e : d.events)
          apply_queue(st.configured, e);
        auto c = st.configured.find(name);
        st.index->configure(name, c == st.configured.end() ? nullptr : &c->second);
        journal_batch batch;
        batch.events = std::move(d.events);
        st.box.append(self, st.env->journal, st.env->gateway, std::move(batch), {}, [] {});
        try_next(self);
        return answer_when_durable(self, st.box, d.answer);
      },
      [=](view_atom, call_view& v) {
        self->state.index->update(v);
        try_next(self);
      },
      [=](view_atom, agent_view& v) {
        self->state.index->update(v);
        try_next(self);
      },
      [=](remove_atom, const std::string& agent_id) {
        self->state.index->remove_agent(agent_id);
        try_next(self);
      },
      [=](direct_atom, call_view& v) {
        auto& st = self->state;
        v.dispatchable = true;  // held for the direct match, not for others first
        st.index->update(v);
        st.direct.push_back(v.sid);
        try_next(self);
      },
      [=](recovered_atom) {
        self->state.recovering = false;
        try_next(self);
      },
      [=](sweep_atom) -> caf::result<reply> {
        auto& st = self->state;
        auto rp = self->make_response_promise();
        st.sweep_waiters.push_back(rp);
        if (!st.sweeping) {
          st.sweeping = true;
          st.swept = 0;
        }
        try_next(self);
        return rp;
      },
  };
}

}  // namespace

caf::actor spawn_dispatcher(caf::actor_system& sys, std::shared_ptr<entity_env> env,
                            dispatcher_start start) {
  return sys.spawn(dispatcher, std::move(env), std::move(start));
}

}  // namespace callq
