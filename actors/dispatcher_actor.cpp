#include "actors/dispatcher_actor.hpp"

#include <deque>
#include <iostream>
#include <unordered_map>

#include "actors/messages.hpp"

namespace callq {

namespace {

/// An answer waiting until append number `after` is durable.
struct held_reply {
  uint64_t after;
  caf::response_promise promise;
  reply answer;
};

/// REST calls waiting until append number `after` is durable.
struct held_jobs {
  uint64_t after;
  std::vector<rest_job> jobs;
};

struct dispatcher_state {
  std::unique_ptr<center> logic;
  dispatcher_options opts;
  caf::actor gateway;
  uint64_t submitted = 0;  ///< appends sent to the journal
  uint64_t durable = 0;    ///< appends acknowledged
  std::deque<held_reply> replies;
  std::deque<held_jobs> jobs;
  /// Recent answers by idempotency key, for retries that arrive before the
  /// first answer's events are durable (runtime::ask reads durable ones).
  std::unordered_map<std::string, reply> recent;
  std::deque<std::string> recent_order;
  uint64_t events_since_digest = 0;
  int64_t last_sweep_ms = 0;
  int64_t last_cleanup_ms = 0;
  static inline const char* name = "callq.dispatcher";
};

using self_ptr = caf::stateful_actor<dispatcher_state>*;

void remember(dispatcher_state& st, const std::string& key, const reply& r) {
  if (key.empty())
    return;
  if (st.recent.emplace(key, r).second)
    st.recent_order.push_back(key);
  while (st.recent_order.size() > 100'000) {
    st.recent.erase(st.recent_order.front());
    st.recent_order.pop_front();
  }
}

/// REST calls the events ask for.
std::vector<rest_job> jobs_for(const center& logic, const std::vector<events::event>& evs) {
  std::vector<rest_job> out;
  for (auto& e : evs) {
    if (auto* o = std::get_if<events::call_offered>(&e.body); o && !o->direct) {
      rest_job j;
      j.what = rest_job::kind::redirect_call;
      j.call_sid = o->call_sid;
      j.offer_id = o->offer_id;
      out.push_back(std::move(j));
    } else if (auto* s = std::get_if<events::callback_started>(&e.body)) {
      rest_job j;
      j.what = rest_job::kind::create_call;
      j.callback_id = s->callback_id;
      j.call_sid = s->call_sid;
      if (const agent* a = logic.find_agent(s->agent_id))
        j.identity = a->identity;
      out.push_back(std::move(j));
    }
  }
  return out;
}

void release(self_ptr self) {
  auto& st = self->state;
  while (!st.replies.empty() && st.replies.front().after <= st.durable) {
    st.replies.front().promise.deliver(std::move(st.replies.front().answer));
    st.replies.pop_front();
  }
  while (!st.jobs.empty() && st.jobs.front().after <= st.durable) {
    for (auto& j : st.jobs.front().jobs)
      self->send(st.gateway, std::move(j));
    st.jobs.pop_front();
  }
}

/// Runs one command: decide (and apply), submit the events, hold the
/// answer until they are durable.
void run(self_ptr self, const cmd::command& c, const std::string& idem_key,
         caf::response_promise* promise) {
  auto& st = self->state;
  auto result = st.logic->handle(c, st.opts.clock->now_ms());
  if (!result.events.empty()) {
    journal_batch batch;
    if (!idem_key.empty() && result.answer.is_voice && result.answer.status == 200)
      batch.idempotency.emplace_back(idem_key, result.answer.voice.to_json().dump());
    remember(st, idem_key, result.answer);
    auto jobs = jobs_for(*st.logic, result.events);
    st.events_since_digest += result.events.size();
    batch.events = std::move(result.events);
    uint64_t id = ++st.submitted;
    self->request(st.opts.journal, caf::infinite, append_atom::value, std::move(batch))
        .then(
            [=](uint64_t) {
              auto& s = self->state;
              s.durable = std::max(s.durable, id);
              release(self);
            },
            [=](caf::error& err) {
              // The in-memory state is now ahead of the log: stop at once,
              // a restart rebuilds the state from what is durable.
              std::cerr << "callq: event log append failed: "
                        << self->system().render(err) << "; stopping" << std::endl;
              std::_Exit(70);
            });
    if (!jobs.empty())
      st.jobs.push_back({id, std::move(jobs)});
  }
  if (promise != nullptr) {
    if (st.durable >= st.submitted)
      promise->deliver(std::move(result.answer));
    else
      st.replies.push_back({st.submitted, *promise, std::move(result.answer)});
  }
}

void on_tick(self_ptr self) {
  auto& st = self->state;
  int64_t now = st.opts.clock->now_ms();
  run(self, cmd::tick{}, {}, nullptr);
  const policy& p = st.logic->rules();
  if (p.feature_agent_polling && now - st.last_sweep_ms >= p.polling_interval_ms) {
    st.last_sweep_ms = now;
    run(self, cmd::sweep{}, {}, nullptr);
  }
  if (now - st.last_cleanup_ms >= st.opts.cleanup_every_ms) {
    st.last_cleanup_ms = now;
    run(self, cmd::queue_cleanup{}, {}, nullptr);
  }
  if (st.events_since_digest >= st.opts.digest_every_events) {
    st.events_since_digest = 0;
    run(self, cmd::record_digest{}, {}, nullptr);
  }
}


caf::behavior dispatcher(self_ptr self, std::shared_ptr<std::unique_ptr<center>> logic,
                         dispatcher_options opts) {
  auto& st = self->state;
  st.logic = std::move(*logic);
  st.opts = std::move(opts);
  st.last_sweep_ms = st.last_cleanup_ms = st.opts.clock->now_ms();
  st.gateway = spawn_gateway(self->system(), st.opts.gateway, st.opts.gateway_figures,
                             caf::actor_cast<caf::actor>(self));
  self->link_to(st.gateway);
  self->delayed_send(self, std::chrono::milliseconds(st.opts.tick_ms), tick_atom::value);
  return {
        [=](command_atom, command_request& req) -> caf::result<reply> {
          auto& st = self->state;
          auto rp = self->make_response_promise();
          if (!req.idempotency_key.empty()) {
            if (auto i = st.recent.find(req.idempotency_key); i != st.recent.end()) {
              // A retry: the first answer, once its events are durable.
              if (st.durable >= st.submitted)
                rp.deliver(i->second);
              else
                st.replies.push_back({st.submitted, rp, i->second});
              return rp;
            }
          }
          run(self, req.command, req.idempotency_key, &rp);
          return rp;
        },
        [=](tick_atom) {
          on_tick(self);
          self->delayed_send(self, std::chrono::milliseconds(self->state.opts.tick_ms),
                             tick_atom::value);
        },
    };
}

}  // namespace

caf::actor spawn_dispatcher(caf::actor_system& sys, std::unique_ptr<center> logic,
                            dispatcher_options opts) {
  return sys.spawn(dispatcher, std::make_shared<std::unique_ptr<center>>(std::move(logic)),
                   std::move(opts));
}

}  // namespace callq
