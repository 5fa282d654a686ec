// Where the HTTP threads (and the actors) find a mailbox: a call's actor by
// CallSid, offer id or callback id, an agent's actor by id. Maps under
// reader-writer locks, written when an actor starts or stops, read on every
// request; no actor stands in the way. Calls are split over 16 stripes by
// CallSid, each with its own lock, and a call's actor is spawned outside
// any lock, so that a new call's spawn never holds up lookups of others
// (under load, a lock holder descheduled mid-spawn stalled every request). It also remembers recently
// finished calls (and their offer ids), so a late Twilio retry for a call
// whose actor has stopped gets the same answer as before, never an error:
// from the final state while its last events are on their way to disk,
// then from the call's own stream in the log (compact: no state is kept).
//
// Each open or recently finished call's CallSid is held here once, as a
// call_sid its actor, its timer deadline and the dispatcher's view share;
// the maps key by a view of it.
//
// A call whose actor is passivated (a waiting call idle for a while, see
// call_actor.hpp) is kept here as its state alone, shared with the read
// model: call() wakes it, spawning its actor again from that state, so
// that whoever looks a call up never sees the difference.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>

#include "actors/call/call_sid.hpp"
#include "actors/call/call_state.hpp"

namespace callq {

class registry {
 public:
  /// Spawns the actor of a passivated call `sid` from its state; `due` is
  /// the deadline its timer entry holds.
  using call_waker =
      std::function<caf::actor(const call_sid& sid, shared_call_state state, int64_t due)>;
  /// Spawns the actor of call `sid` (the registry's copy, for the actor to
  /// share).
  using call_spawner = std::function<caf::actor(const call_sid& sid)>;
  /// Sets how passivated calls are woken (once, before any is passivated).
  void set_waker(call_waker w);

  /// The actor of open call `sid`, woken (spawned again from its state)
  /// if it is passivated; invalid if there is no such open call.
  caf::actor call(std::string_view sid);
  /// The actor of call `sid` if it runs now; never wakes one.
  caf::actor running_call(std::string_view sid) const;
  /// Whether `sid` is an open call (running or passivated).
  bool has_call(std::string_view sid) const;
  /// The registry's copy of open call `sid`'s CallSid, for others to share;
  /// empty if there is no such open call.
  call_sid sid_of(std::string_view sid) const;
  /// Call `sid`'s actor `self` is passivated: from now on the call is `state`
  /// (its timer entry due at `due`) until call() wakes it. False (and
  /// nothing changes) if `self` is not the call's actor any more.
  bool passivate(std::string_view sid, const caf::actor& self, shared_call_state state, int64_t due);
  /// Call `sid` starts passivated (a restart): it is `state` (its timer
  /// entry due at `due`) until call() wakes it. Nothing changes if the
  /// call is known already; returns whether it was added.
  bool add_passive(std::string_view sid, shared_call_state state, int64_t due);
  /// The sid of the call that offer (or callback) `id` belongs to; empty
  /// if none, live or recently finished.
  std::string call_of_offer(const std::string& id) const;
  /// The live actor of agent `id` (invalid if none).
  caf::actor agent(const std::string& id) const;

  /// The actor of call `sid`, spawned by `spawn` if there is none (atomic:
  /// two requests for a new call get one actor; `spawn` runs outside the
  /// lock, and an actor made by the request that lost a race is stopped
  /// before anyone sees it). `*spawned` says which.
  caf::actor call_or_spawn(std::string_view sid, const call_spawner& spawn, bool* spawned);
  /// What find_or_spawn_call() found or made.
  struct call_found {
    caf::actor actor;                    ///< live, or just spawned
    bool finished = false;  ///< else: the call finished (no actor; see finished())
    bool spawned = false;
  };
  /// Atomically: the live actor of call `sid`, else its kept final state,
  /// else a new actor made by `spawn` (outside the lock, checked again
  /// under it, as call_or_spawn). A call that has just finished is never
  /// spawned again (a second `call.arrived` in its stream), whatever runs
  /// between a lookup and a spawn.
  call_found find_or_spawn_call(std::string_view sid, const call_spawner& spawn);
  /// Same as call_or_spawn for agents, `spawn` under the agents' lock
  /// (agents are few and rarely made).
  caf::actor agent_or_spawn(const std::string& id, const std::function<caf::actor()>& spawn,
                            bool* spawned);
  /// Records an offer or callback id of call `sid`.
  void add_offer(const std::string& id, const std::string& sid);

  /// Call `final.sid` finished: its actor is forgotten; its final state is
  /// kept until final_state_durable(), the call remembered as finished
  /// (with its offer ids) until purge_finished() drops it.
  /// The state is the actor's own, shared (shared_call_state): no copy.
  void finish_call(const shared_call_state& final);
  /// The finished call's last events are durable (its actor stops): late
  /// retries read its stream from now on, so its state is dropped.
  void final_state_durable(std::string_view sid);
  /// Whether `sid` finished recently (still remembered).
  bool is_finished(std::string_view sid) const;
  /// The final state of a finished call whose last events may not be
  /// durable yet; nullopt otherwise (read the log).
  std::optional<call_state> finished(std::string_view sid) const;
  /// Drops finished calls that ended at or before `before_ms`, and the
  /// oldest beyond `max_kept`; returns how many were dropped.
  size_t purge_finished(int64_t before_ms, size_t max_kept = 200'000);

  /// Call `sid`'s actor stopped without the call finishing (its first
  /// append was refused: its stream existed); forgotten if still `a`.
  void forget_call(std::string_view sid, const caf::actor& a);

  /// Agent `id`'s actor stopped (removed).
  void remove_agent(const std::string& id);

  /// Open calls, running or passivated.
  size_t live_calls() const;
  /// Open calls whose actor is passivated.
  size_t passive_calls() const;
  size_t live_agents() const;
  size_t finished_calls() const;
  /// The actors of the open calls that run now (passivated ones are not
  /// woken: for shutdown).
  std::vector<caf::actor> all_calls() const;
  /// The actors of every open call, passivated ones woken (to ask them all).
  std::vector<caf::actor> wake_all_calls();
  /// The CallSids of every open call.
  std::vector<call_sid> all_call_sids() const;
  /// The states of the passivated calls (their actors' digests).
  std::vector<shared_call_state> passive_states() const;
  std::vector<caf::actor> all_agents() const;

 private:
  static constexpr size_t stripe_count = 16;
  /// The calls whose CallSid hashes to one stripe.
  /// An open call: its running actor, or (actor invalid) its passivated
  /// state and the deadline its timer entry holds.
  struct call_entry {
    call_sid sid;  ///< the one copy; the map's key views it
    caf::actor actor;
    shared_call_state passive;
    int64_t due = 0;
  };
  /// A recently finished call: its final state until it is durable.
  struct finished_entry {
    call_sid sid;  ///< the map's key views it
    shared_call_state state;
  };
  struct call_stripe {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string_view, call_entry> calls;
    /// Recently finished calls; the state only until it is durable (then
    /// null: an entry is a few dozen bytes for the rest of its 10 minutes,
    /// not a whole call_state).
    std::unordered_map<std::string_view, finished_entry> finished;
    std::deque<std::pair<int64_t, call_sid>> finished_order;
  };
  call_stripe& stripe_of(std::string_view sid);
  const call_stripe& stripe_of(std::string_view sid) const;
  /// The spawned-or-found step of call_or_spawn and find_or_spawn_call.
  call_found find_or_spawn(std::string_view sid, const call_spawner& spawn, bool refuse_finished);

  /// Calls `f(entry)` for every open call, a stripe at a time under
  /// its shared lock.
  template <class F> void each_call(F f) const;

  std::array<call_stripe, stripe_count> stripes_;
  call_waker waker_;
  mutable std::shared_mutex agents_mu_;
  std::unordered_map<std::string, caf::actor> agents_;
  mutable std::shared_mutex offers_mu_;
  std::unordered_map<std::string, std::string> offers_;  ///< offer/callback id -> sid
  std::unordered_map<std::string, std::vector<std::string>> offers_of_;
};

}  // namespace callq
