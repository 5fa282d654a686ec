#include "actors/timer_actor.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <set>
#include <unordered_map>

#include "actors/messages.hpp"

namespace callq {

namespace {

/// One entry per key with a deadline: each key's due time, and (due,
/// key) soonest first, pointing at the key held once by the map (its
/// nodes never move). A new deadline replaces the old one, so no entity
/// is ever ticked for a deadline it no longer has.
template <class Key>
struct deadlines {
  /// Soonest first; equal times by key (never by where a key happens to
  /// be allocated: a replayed scenario ticks in the same order).
  struct soonest {
    bool operator()(const std::pair<int64_t, const Key*>& a,
                    const std::pair<int64_t, const Key*>& b) const {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    }
  };
  std::unordered_map<Key, int64_t> due_of;
  std::set<std::pair<int64_t, const Key*>, soonest> due;

  /// Sets `key`'s one deadline to `due_ms`; 0 cancels it.
  void set(Key key, int64_t due_ms) {
    auto i = due_of.find(key);
    if (i != due_of.end()) {
      due.erase({i->second, &i->first});
      if (due_ms == 0) {
        due_of.erase(i);
        return;
      }
      i->second = due_ms;
      due.emplace(due_ms, &i->first);
      return;
    }
    if (due_ms == 0)
      return;
    auto j = due_of.emplace(std::move(key), due_ms).first;
    due.emplace(due_ms, &j->first);
  }
  /// The keys due at `now` with their due times, soonest first, each
  /// once; their deadlines are gone.
  std::vector<std::pair<int64_t, Key>> take(int64_t now) {
    std::vector<std::pair<int64_t, Key>> out;
    while (!due.empty() && due.begin()->first <= now) {
      auto [at, key] = *due.begin();
      due.erase(due.begin());
      auto node = due_of.extract(*key);
      out.emplace_back(at, std::move(node.key()));
    }
    return out;
  }
};

struct timer_state {
  std::shared_ptr<entity_env> env;
  timer_options opts;
  /// Agents by actor; calls by CallSid, so that a passivated call's
  /// deadline wakes it (registry::call).
  deadlines<caf::actor> agents;
  deadlines<call_sid> calls;
  /// When running waiting calls (by CallSid) are next asked whether they
  /// have been idle long enough to be passivated, in the order asked for
  /// (always now + the same delay: soonest first). By CallSid, not by a
  /// weak handle, which would keep a finished call's actor's memory until
  /// then: a call that finished or was passivated meanwhile is skipped.
  std::deque<std::pair<int64_t, call_sid>> idle_checks;
  int64_t last_sweep_ms = 0, last_cleanup_ms = 0;
  /// The periodic cleanup's round: call actors not asked yet (weak: a call
  /// that finishes meanwhile is not kept alive by the round), and how many
  /// to ask per beat so that the round ends within its period.
  std::vector<call_sid> cleanup_left;
  size_t cleanup_per_beat = 0;
  uint64_t events_at_digest = 0;
  static inline const char* name = "callq.timers";
};

using self_ptr = caf::stateful_actor<timer_state>*;

/// Sends `msg` to every actor in `to` as a request and calls `done` with
/// the replies (failed requests are left out) once all have answered.
template <class... Ts>
void fan_out(self_ptr self, const std::vector<caf::actor>& to,
             std::function<void(std::vector<reply>&)> done, Ts... msg) {
  auto replies = std::make_shared<std::vector<reply>>();
  replies->reserve(to.size());  // a reply is 352 bytes: no copies as it grows
  auto left = std::make_shared<size_t>(to.size());
  if (to.empty()) {
    done(*replies);
    return;
  }
  for (auto& a : to)
    self->request(a, std::chrono::seconds(30), msg...)
        .then(
            [=](reply& r) {
              replies->push_back(std::move(r));
              if (--*left == 0)
                done(*replies);
            },
            [=](caf::error&) {
              if (--*left == 0)
                done(*replies);
            });
}

/// The entities due at `now` (their deadlines gone), each once, the
/// soonest deadline first, agents and calls alike (a call woken if
/// passivated): what came due earlier is decided first.
std::vector<caf::actor> take_due(timer_state& st, int64_t now) {
  auto agents = st.agents.take(now);
  auto calls = st.calls.take(now);
  std::vector<caf::actor> out;
  out.reserve(agents.size() + calls.size());
  size_t a = 0, c = 0;
  while (a < agents.size() || c < calls.size()) {
    if (c == calls.size() || (a < agents.size() && agents[a].first <= calls[c].first)) {
      out.push_back(std::move(agents[a++].second));
    } else if (auto call = st.env->reg->call(calls[c++].second)) {
      out.push_back(std::move(call));
    }
  }
  return out;
}

/// Call `sid` is asked at `at` whether it has been idle long
/// enough to be passivated.
void plan_idle_check(self_ptr self, call_sid sid, int64_t at) {
  auto& checks = self->state.idle_checks;
  if (!checks.empty() && at < checks.back().first)  // a clock set back: keep the order
    at = checks.back().first;
  checks.emplace_back(at, std::move(sid));
}

/// The running calls whose idle check is due at `now`.
std::vector<caf::actor> take_idle_checks(timer_state& st, int64_t now) {
  std::vector<caf::actor> out;
  while (!st.idle_checks.empty() && st.idle_checks.front().first <= now) {
    if (auto a = st.env->reg->running_call(st.idle_checks.front().second))
      out.push_back(std::move(a));
    st.idle_checks.pop_front();
  }
  return out;
}

/// Makes the digest of read-model version `v`, then calls `then(digest)`
/// on the timer actor (nullopt: the worker failed): on a detached actor of
/// its own when opts.digest_detached (it holds `v` meanwhile, as a reader
/// does), so that no scheduler thread spends the digest's time; else in
/// place.
template <class F>
void digest_of(self_ptr self, std::shared_ptr<const world> v, F then) {
  if (!self->state.opts.digest_detached) {
    then(v->digest());
    return;
  }
  auto worker = self->spawn<caf::detached>([v]() -> caf::behavior {
    return {[v](digest_atom) { return v->digest(); }};
  });
  auto done = [self, worker] { self->send_exit(worker, caf::exit_reason::user_shutdown); };
  self->request(worker, caf::infinite, digest_atom::value)
      .then(
          [done, then](std::string& digest) mutable {
            done();
            then(std::optional<std::string>(std::move(digest)));
          },
          [done, then](caf::error&) mutable {
            done();
            then(std::optional<std::string>());
          });
}

/// Records a digest of the newest read-model version, naming the last
/// event it covers (so that what is appended meanwhile does not matter),
/// and answers `answer`, if any, with it once it is durable.
void record_digest(self_ptr self, std::optional<caf::response_promise> answer) {
  auto& st = self->state;
  std::shared_ptr<const world> v = st.env->reads->version();
  const int64_t seq = static_cast<int64_t>(v->last_seq());
  digest_of(self, std::move(v), [self, seq, answer](std::optional<std::string> digest) mutable {
    if (!digest) {  // the worker died: nothing to record
      if (answer)
        answer->deliver(caf::make_error(caf::sec::request_receiver_down));
      return;
    }
    journal_batch b;
    b.events.push_back({self->state.env->clock->now_ms(), events::system_state_digest{*digest, seq}});
    self->request(self->state.env->journal, caf::infinite, append_atom::value, std::move(b))
        .then(
            [answer, digest = std::move(*digest)](uint64_t) mutable {
              if (answer)
                answer->deliver(digest);
            },
            [answer](caf::error& e) mutable {
              if (answer)
                answer->deliver(std::move(e));
            });
  });
}

/// The periodic work of a real-time beat.
void beat(self_ptr self) {
  auto& st = self->state;
  const entity_env& env = *st.env;
  int64_t now = env.clock->now_ms();
  for (auto& a : take_due(st, now))
    caf::anon_send(a, tick_atom::value);  // their answers are not needed here
  for (auto& a : take_idle_checks(st, now))
    caf::anon_send(a, passivate_atom::value);
  const policy& p = env.rules;
  if (p.feature_agent_polling && now - st.last_sweep_ms >= p.polling_interval_ms) {
    st.last_sweep_ms = now;
    self->request(env.dispatcher, caf::infinite, sweep_atom::value)
        .then([](reply&) {}, [](caf::error&) {});
  }
  // The periodic cleanup is incremental: a round asks every call actor
  // once, a slice per beat (never 100,000 messages at once), and drops the
  // finished calls past their retention.
  if (now - st.last_cleanup_ms >= st.opts.cleanup_every_ms) {
    st.last_cleanup_ms = now;
    caf::anon_send(env.journal, expire_atom::value, now);
    st.cleanup_left = env.reg->all_call_sids();
    std::reverse(st.cleanup_left.begin(), st.cleanup_left.end());  // taken from the back
    int64_t beats = std::max<int64_t>(1, st.opts.cleanup_every_ms / st.opts.beat_ms * 4 / 5);
    st.cleanup_per_beat = std::max<size_t>(64, (st.cleanup_left.size() + static_cast<size_t>(beats) - 1) /
                                                   static_cast<size_t>(beats));
  }
  for (size_t n = 0; n < st.cleanup_per_beat && !st.cleanup_left.empty(); ++n) {
    // A call finished meanwhile is not found (nor spawned again); a
    // passivated one is woken for its turn.
    if (auto a = env.reg->call(st.cleanup_left.back()))
      caf::anon_send(a, command_atom::value, call_request{cmd::queue_cleanup{}, {}});
    st.cleanup_left.pop_back();
  }
  env.reg->purge_finished(now - env.rules.finished_retention_ms);
  if (st.opts.journal_figures) {
    uint64_t events = st.opts.journal_figures->events.load();
    if (events - st.events_at_digest >= st.opts.digest_every_events) {
      st.events_at_digest = events;
      record_digest(self, std::nullopt);
    }
  }
}

caf::behavior timers(self_ptr self, std::shared_ptr<entity_env> env, timer_options opts) {
  auto& st = self->state;
  st.env = std::move(env);
  st.opts = std::move(opts);
  st.last_sweep_ms = st.last_cleanup_ms = st.env->clock->now_ms();
  // Each beat carries when it is due (steady clock): how late it runs is
  // how far behind the actors are (the load gauge's measurement).
  auto next_beat = [self] {
    auto period = std::chrono::milliseconds(self->state.opts.beat_ms);
    int64_t due = std::chrono::duration_cast<std::chrono::microseconds>(
                      (std::chrono::steady_clock::now() + period).time_since_epoch())
                      .count();
    self->delayed_send(self, period, beat_atom::value, due);
  };
  if (st.opts.beat_ms > 0)
    next_beat();
  return {
      [=](schedule_atom, caf::actor& who, int64_t due) { self->state.agents.set(std::move(who), due); },
      [=](schedule_atom, call_sid& sid, int64_t due) { self->state.calls.set(std::move(sid), due); },
      [=](passivate_atom, call_sid& sid, int64_t at) { plan_idle_check(self, std::move(sid), at); },
      [=](schedule_atom, call_sid& sid, int64_t due, int64_t idle_at) {
        plan_idle_check(self, sid, idle_at);
        self->state.calls.set(std::move(sid), due);
      },
      [=](pending_atom) {
        auto& st = self->state;
        return static_cast<int64_t>(st.agents.due.size() + st.calls.due.size());
      },
      [=](beat_atom, int64_t due_us) {
        if (auto& gauge = self->state.opts.load) {
          int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
          gauge->measured(std::max<int64_t>(0, now_us - due_us));
        }
        beat(self);
        next_beat();
      },
      [=](tick_atom) -> caf::result<reply> {
        auto& st = self->state;
        auto rp = self->make_response_promise();
        int64_t now = st.env->clock->now_ms();
        auto due = take_due(st, now);
        auto idle = take_idle_checks(st, now);
        fan_out(self, due,
                [=](std::vector<reply>&) mutable {
                  fan_out(self, idle, [rp](std::vector<reply>&) mutable { rp.deliver(reply{}); },
                          passivate_atom::value);
                },
                tick_atom::value);
        return rp;
      },
      [=](cleanup_atom) -> caf::result<reply> {
        auto& st = self->state;
        auto rp = self->make_response_promise();
        auto env = st.env;
        // Idempotency entries past their time to live leave the store
        // (never an event); the journal, the one writer, deletes them.
        caf::anon_send(env->journal, expire_atom::value, env->clock->now_ms());
        fan_out(self, env->reg->wake_all_calls(),
                [rp, env](std::vector<reply>& rs) mutable {
                  cleanup_answer a;
                  for (auto& r : rs)
                    if (auto* c = std::get_if<cleanup_answer>(&r.body))
                      a.ids.insert(a.ids.end(), c->ids.begin(), c->ids.end());
                  std::sort(a.ids.begin(), a.ids.end());
                  int64_t now = env->clock->now_ms();
                  a.count = static_cast<int64_t>(
                      env->reg->purge_finished(now - env->rules.finished_retention_ms));
                  rp.deliver(reply::of(a));
                },
                command_atom::value, call_request{cmd::queue_cleanup{}, {}});
        return rp;
      },
      [=](expire_atom) -> caf::result<reply> {
        auto rp = self->make_response_promise();
        fan_out(self, self->state.env->reg->all_agents(),
                [rp](std::vector<reply>& rs) mutable {
                  cleanup_answer a;
                  for (auto& r : rs)
                    if (auto* c = std::get_if<cleanup_answer>(&r.body)) {
                      a.checked += c->checked;
                      a.ids.insert(a.ids.end(), c->ids.begin(), c->ids.end());
                    }
                  std::sort(a.ids.begin(), a.ids.end());
                  rp.deliver(reply::of(a));
                },
                command_atom::value, agent_request{cmd::heartbeat_cleanup{}});
        return rp;
      },
      [=](recover_atom, const std::string& version,
          const std::vector<caf::actor>& open_calls) -> caf::result<reply> {
        auto& st = self->state;
        auto rp = self->make_response_promise();
        auto env = st.env;
        journal_batch b;
        b.events.push_back({env->clock->now_ms(), events::system_started{version}});
        self->request(env->journal, caf::infinite, append_atom::value, std::move(b))
            .then(
                [=](uint64_t) {
                  fan_out(self, env->reg->all_agents(),
                          [=](std::vector<reply>&) {
                            fan_out(self, open_calls,
                                    [rp](std::vector<reply>& rs) mutable {
                                      cleanup_answer a;
                                      for (auto& r : rs)
                                        if (auto* c = std::get_if<cleanup_answer>(&r.body))
                                          a.count += c->count;
                                      rp.deliver(reply::of(a));
                                    },
                                    command_atom::value, call_request{cmd::recover{version}, {}});
                          },
                          command_atom::value, agent_request{cmd::recover{version}});
                },
                [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
        return rp;
      },
      [=](digest_atom) -> caf::result<std::string> {
        auto rp = self->make_response_promise();
        record_digest(self, rp);
        return rp;
      },
  };
}

}  // namespace

caf::actor spawn_timers(caf::actor_system& sys, std::shared_ptr<entity_env> env,
                        timer_options opts) {
  return sys.spawn(timers, std::move(env), std::move(opts));
}

}  // namespace callq
