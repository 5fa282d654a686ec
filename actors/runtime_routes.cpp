#include "actors/runtime.hpp"

#include <caf/all.hpp>

#include "actors/agent/agent_actor.hpp"
#include "actors/call/call_actor.hpp"
#include "actors/call/call_logic.hpp"
#include "actors/messages.hpp"
#include "actors/reply_codec.hpp"

#include "actors/runtime_internal.hpp"

namespace callq {

using namespace runtime_detail;

namespace {

/// Finds the actor a command belongs to and asks it.
struct router {
  caf::actor_system& sys;
  requester_pool& askers;
  const std::function<void()>& pump;
  entity_env& env;
  const std::string& key;
  const storage::event_log& log;
  const std::atomic<uint64_t>& crashes;  ///< runtime::crashes_: gives up waiting when it moves

  reply ask_call(const caf::actor& a, call_command c, std::string k = {}) {
    reply r;
    std::string why;
    if (!request_unless_crashed(askers, pump, crashes, a, &r, &why, command_atom::value,
                                call_request{std::move(c), std::move(k)}))
      return reply::fail(outcome::unavailable, "call unavailable: " + why);
    return r;
  }
  reply ask_agent(const caf::actor& a, agent_command c) {
    reply r;
    std::string why;
    if (!request_unless_crashed(askers, pump, crashes, a, &r, &why, command_atom::value,
                                agent_request{std::move(c)}))
      return reply::fail(outcome::unavailable, "agent unavailable: " + why);
    return r;
  }
  /// The state of call `sid` that has no live actor: its final state while
  /// its last events may not be durable, else its own stream folded with
  /// the call's apply code (a call finished a while ago, or before a
  /// restart). Version 0: no such call. `out` is a default call_state
  /// when called. A read on this HTTP thread, never under the registry's
  /// lock.
  status past_state(const std::string& sid, call_state* out) {
    if (auto kept = env.reg->finished(sid)) {
      *out = std::move(*kept);
      return status::ok();
    }
    return log.read_stream(events::call_stream(sid), [&](const events::envelope& e) {
      apply(*out, e.ev);
      return true;
    });
  }
  /// The answer a call without a live actor gives (`unknown` when there
  /// is no such call).
  reply answer_past(const std::string& sid, const call_command& c, const std::string& unknown) {
    call_state past;
    if (auto st = past_state(sid, &past); !st)
      return reply::fail(outcome::unavailable, "event log unavailable: " + st.message());
    if (past.version == 0)
      return reply::fail(outcome::invalid, unknown);
    return answer_finished(std::move(past), c, env);
  }
  /// A command for the call `sid` (live, or finished).
  reply to_call(const std::string& sid, call_command c, const std::string& unknown) {
    if (caf::actor a = env.reg->call(sid)) {
      reply r = ask_call(a, c, key);
      // The call finished and its actor stopped between the lookup and
      // the ask: answer as for any finished call.
      if (r.result == outcome::unavailable && env.reg->is_finished(sid))
        return answer_past(sid, c, unknown);
      // Its actor was passivated and stopped between the lookup and the
      // ask: its next one answers.
      if (r.result == outcome::unavailable)
        if (caf::actor b = env.reg->call(sid); b && b != a)
          return ask_call(b, c, key);
      return r;
    }
    return answer_past(sid, c, unknown);
  }
  reply to_offer(const std::string& id, call_command c, const std::string& what) {
    std::string sid = env.reg->call_of_offer(id);
    if (sid.empty())
      return reply::fail(outcome::invalid, "unknown " + what + " " + id);
    return to_call(sid, std::move(c), "unknown " + what + " " + id);
  }
  template <class... Ts> reply ask_service(const caf::actor& a, const char* what, Ts... msg) {
    reply r;
    std::string why;
    if (!request_unless_crashed(askers, pump, crashes, a, &r, &why, msg...))
      return reply::fail(outcome::unavailable, std::string(what) + " unavailable: " + why);
    return r;
  }

  reply operator()(cmd::incoming_call& x) {
    if (!env.reg->has_call(x.call_sid)) {
      // No live actor: new, or finished (a late retry). A finished call
      // gets the answer its final state gives, never a second arrival.
      call_state past;
      if (auto st = past_state(x.call_sid, &past); !st)
        return reply::fail(outcome::unavailable, "event log unavailable: " + st.message());
      if (past.version > 0)
        return answer_finished(std::move(past), x, env);
    }
    auto found = env.reg->find_or_spawn_call(
        x.call_sid, [&](const call_sid& sid) { return spawn_call(sys, env_ptr(), sid, call_state{}); });
    if (found.finished)  // a retry racing the call's end
      return answer_past(x.call_sid, x, "unknown call " + x.call_sid);
    reply r = ask_call(found.actor, x, key);
    if (r.result == outcome::unavailable && env.reg->is_finished(x.call_sid))
      return answer_past(x.call_sid, x, "unknown call " + x.call_sid);  // it finished meanwhile
    return r;
  }
  reply operator()(cmd::hold_poll& x) { return to_call(x.call_sid, x, "unknown call " + x.call_sid); }
  reply operator()(cmd::callback_response& x) {
    return to_call(x.call_sid, x, "unknown call " + x.call_sid);
  }
  reply operator()(cmd::queue_left& x) { return to_call(x.call_sid, x, "unknown call " + x.call_sid); }
  reply operator()(cmd::call_status& x) {
    reply r = to_call(x.call_sid, x, "unknown call");
    if (r.result == outcome::invalid)  // a status for a call we never had
      return reply::twiml({voice_reply::kind::empty});
    return r;
  }
  reply operator()(cmd::connect_agent& x) { return to_offer(x.offer_id, x, "offer"); }
  reply operator()(cmd::agent_leg_status& x) { return to_offer(x.offer_id, x, "offer"); }
  reply operator()(cmd::dial_result& x) { return to_offer(x.offer_id, x, "offer"); }
  reply operator()(cmd::redirect_failed& x) { return to_offer(x.offer_id, x, "offer"); }
  reply operator()(cmd::callback_connect& x) { return to_offer(x.callback_id, x, "callback"); }
  reply operator()(cmd::callback_result& x) { return to_offer(x.callback_id, x, "callback"); }
  reply operator()(cmd::callback_call_failed& x) { return to_offer(x.callback_id, x, "callback"); }
  reply operator()(cmd::callback_call_placed& x) { return to_offer(x.callback_id, x, "callback"); }
  reply operator()(cmd::heartbeat& x) {
    caf::actor a = env.reg->agent(x.agent_id);
    if (!a)
      return reply::fail(outcome::not_found, "unknown agent " + x.agent_id);
    return ask_agent(a, std::move(x));
  }
  reply operator()(cmd::wrap_up& x) {
    caf::actor a = env.reg->agent(x.agent_id);
    if (!a)
      return reply::fail(outcome::not_found, "unknown agent " + x.agent_id);
    // The dispositions of the queue the agent's last call was in, as the
    // durable configuration says.
    x.dispositions = env.reads->read([&](const world& w) {
      const agent_state* s = w.find_agent(x.agent_id);
      return s != nullptr ? w.config_of(s->last_call_queue).dispositions
                          : std::vector<std::string>{};
    });
    return ask_agent(a, std::move(x));
  }
  reply operator()(cmd::put_agent& x) {
    bool spawned = false;
    auto a = env.reg->agent_or_spawn(
        x.agent_id, [&] { return spawn_agent(sys, env_ptr(), agent_state{}); }, &spawned);
    return ask_agent(a, std::move(x));
  }
  reply operator()(cmd::delete_agent& x) {
    caf::actor a = env.reg->agent(x.agent_id);
    if (!a)
      return reply::fail(outcome::not_found, "unknown agent " + x.agent_id);
    return ask_agent(a, std::move(x));
  }
  reply operator()(cmd::schedule_callback& x) {
    x.callback_id = env.ids->next_callback_id();
    bool spawned = false;
    auto a = env.reg->call_or_spawn(
        x.callback_id,
        [&](const call_sid& sid) { return spawn_call(sys, env_ptr(), sid, call_state{}); }, &spawned);
    return ask_call(a, std::move(x));
  }
  reply operator()(cmd::cancel_callback& x) {
    if (env.reg->call_of_offer(x.callback_id).empty()) {
      // Long finished (its actor and final state are gone): the read
      // model may still list it.
      auto phase = env.reads->read([&](const world& w) -> std::optional<call_phase> {
        const callback_view* cb = w.find_callback(x.callback_id);
        return cb != nullptr ? std::optional<call_phase>(cb->phase) : std::nullopt;
      });
      if (phase)
        return reply::fail(outcome::conflict, cancel_refusal(x.callback_id, *phase));
      return reply::fail(outcome::not_found, "unknown callback " + x.callback_id);
    }
    return to_offer(x.callback_id, x, "callback");
  }
  reply operator()(cmd::put_caller& x) {
    // The caller directory's streams are written here, by the admin path.
    journal_batch b;
    b.events.push_back({env.clock->now_ms(), events::caller_set{x.number, x.display_name, x.priority, x.language}});
    uint64_t seq = 0;
    std::string why;
    if (!request(askers, pump, env.journal, &seq, &why, append_atom::value, std::move(b)))
      return reply::fail(outcome::unavailable, "event log unavailable: " + why);
    return reply::of(caller_answer{x.number, x.display_name, x.priority});
  }
  reply operator()(cmd::put_queue& x) {
    return ask_service(env.dispatcher, "dispatcher", command_atom::value, queue_request{x});
  }
  reply operator()(cmd::delete_queue& x) {
    return ask_service(env.dispatcher, "dispatcher", command_atom::value, queue_request{x});
  }
  reply operator()(cmd::tick&) {
    return ask_service(env.timers, "timers", tick_atom::value);
  }
  reply operator()(cmd::sweep&) {
    return ask_service(env.dispatcher, "dispatcher", sweep_atom::value);
  }
  reply operator()(cmd::heartbeat_cleanup&) {
    return ask_service(env.timers, "timers", expire_atom::value);
  }
  reply operator()(cmd::queue_cleanup&) {
    return ask_service(env.timers, "timers", cleanup_atom::value);
  }
  reply operator()(cmd::recover& x) {
    // Asked by hand, every call resolves what it has open.
    return ask_service(env.timers, "timers", recover_atom::value, x.version, env.reg->wake_all_calls());
  }
  reply operator()(cmd::record_digest&) {
    std::string digest, why;
    if (!request(askers, pump, env.timers, &digest, &why, digest_atom::value))
      return reply::fail(outcome::unavailable, "digest failed: " + why);
    return reply{};
  }

  std::shared_ptr<entity_env> env_ptr();
  std::shared_ptr<entity_env> shared;
};

std::shared_ptr<entity_env> router::env_ptr() { return shared; }

}  // namespace

reply runtime::ask(cmd::command c, const std::string& idempotency_key) {
  std::shared_lock life(life_mu_);
  if (stopped_)
    return reply::fail(outcome::unavailable, "server is shutting down");
  if (!leading_)
    return reply::fail(outcome::unavailable,
                       "this callq is a follower: another callq leads the shared event log "
                       "(GET /healthz/leader answers 200 there); nothing was changed; retry");
  if (!health_->writable() || !impl_)
    return reply::fail(outcome::unavailable,
                       "the event log cannot be written (" + health_->reason() +
                           "); nothing was changed; retry once space is freed");
  // A retry of a request whose events are durable: its stored answer, read
  // here on the caller's thread rather than in an actor.
  std::string stored;
  voice_reply v;
  if (!idempotency_key.empty() && log_->get_idempotency(idempotency_key, clock_->now_ms(), &stored) &&
      decode_voice_reply(stored, &v))
    return reply::twiml(v);
  auto& sys = impl_->system;
  auto& env = *impl_->env;
  const auto& pump = impl_->pump;
  if (auto* x = std::get_if<cmd::incoming_call>(&c); x && !env.reg->has_call(x->call_sid)) {
    if (health_->reserve_reached())
      return reply::fail(outcome::unavailable,
                         "free disk space is under CALLQ_DISK_RESERVE: new calls are refused "
                         "so that calls already waiting can be connected");
    // Overload is refused, not absorbed: a new call is turned away (Twilio
    // plays the number's fallback) while the actors run behind, so that
    // the calls already admitted are still connected in time.
    if (load_->overloaded()) {
      load_->refused();
      return reply::fail(outcome::unavailable,
                         "overloaded: the actors run " + std::to_string(load_->lag_us() / 1000) +
                             " ms behind (CALLQ_OVERLOAD_LAG " +
                             std::to_string(load_->refuse_us() / 1000) +
                             " ms); new calls are refused until they catch up");
    }
  }
  // Causal completion: the actor answers once the events this command
  // caused are durable -- its own, and those of every actor it asked and
  // waited for (actors/answer_after.hpp) -- never waiting for unrelated
  // work (other reservations, other appends) to drain.
  router r{sys, impl_->askers, pump, env, idempotency_key, *log_, crashes_, impl_->env};
  return std::visit(r, c);
}

status runtime::advance_clock(int64_t ms) {
  if (!manual_clock_)
    return status::not_supported("the clock is not virtual");
  manual_clock_->advance(ms);
  ask(cmd::tick{});
  ask(cmd::sweep{});
  return status::ok();
}


}  // namespace callq
