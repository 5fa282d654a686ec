// One call's state: everything the events of its stream (`call/<CallSid>`)
// say about it, and the event handler that is the only code changing it.
// Pure: no CAF, no clock, no I/O. The call actor, the read model and replay
// all apply events with apply() below, so their states cannot drift.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/lazy_part.hpp"
#include "events/event.hpp"

namespace callq {

/// Where a call is in its life.
enum class call_phase {
  arrived,             ///< recorded, not yet queued
  queued,              ///< waiting for an agent
  offered,             ///< an agent's phone is ringing
  connected,           ///< talking to an agent
  completed,           ///< done after talking
  abandoned,           ///< caller hung up before being connected
  callback_waiting,    ///< left the phone queue for a callback, keeps place
  callback_dialing,    ///< an agent is being called / talking for the callback
  callback_completed,
  callback_failed,
  refused,             ///< the queue did not take the caller (full, no agents, closed)
  deciding_callback,   ///< refused, offered "press 1 for a callback", not queued
  callback_scheduled,  ///< a callback booked for later (the next opening, or an operator's time)
  callback_canceled,   ///< an operator canceled the callback before it started
};

/// Name used in views and timelines, e.g. "callback-waiting".
const char* phase_name(call_phase p);

/// True for phases after which nothing more happens to the call.
bool is_finished(call_phase p);

/// A callback's state as `GET /api/callbacks` names it: "scheduled",
/// "waiting", "started", "completed", "failed" or "canceled"; nullptr for
/// a phase that is not a callback's.
const char* callback_state_name(call_phase p);
/// The phase a callback state word names; false for any other word.
bool parse_callback_state(const std::string& text, call_phase* out);

/// A call's place in dispatch order: escalated first, then higher
/// priority, then earlier enqueue time, then arrival order.
struct line_key {
  bool escalated = false;
  int64_t priority = 0;
  int64_t enqueued_ms = 0;
  uint64_t order = 0;
  bool operator<(const line_key& o) const {
    if (escalated != o.escalated)
      return escalated;
    if (priority != o.priority)
      return priority > o.priority;
    if (enqueued_ms != o.enqueued_ms)
      return enqueued_ms < o.enqueued_ms;
    return order < o.order;
  }
  bool operator==(const line_key& o) const {
    return escalated == o.escalated && priority == o.priority &&
           enqueued_ms == o.enqueued_ms && order == o.order;
  }
};

/// A call's FEATURE_* flags as flag_bits() (actors/feature_flags.hpp)
/// makes them from call.arrived's names; 0: recorded before flags had
/// shares (the server's then hold).
struct call_flags {
  int32_t bits = 0;
};

/// What routing, offers and callbacks set on a call: the offers made and
/// the agents they rang, the callback, the voice webhook's skills, the
/// agent the call waits for. Most calls that only wait never set any of it,
/// so a call_state holds it apart (call_state::routing()), allocated on
/// the first write: a waiting call's state is 384 bytes, not 776.
struct call_routing {
  std::vector<std::string> tried;  ///< agents whose offer failed this round
  std::string offer_id, agent_id;  ///< current or last offer
  /// A ring-all offer's agents, all rung at once (agent_id is the first;
  /// after the connect, the one who answered); empty for one agent.
  std::vector<std::string> ring_all;
  int64_t offered_ms = 0, connected_ms = 0;
  int64_t ring_ms = 0;           ///< ring time of the connecting offer
  std::string callback_id, callback_number;
  int64_t callback_requested_ms = 0;
  int64_t callback_attempts = 0;
  /// The CallSid of the leg to the agent that answered the current attempt
  /// (empty before, or when Twilio sent none): no other leg may connect
  /// the customer.
  std::string callback_leg_sid;
  int64_t callback_due_ms = 0;   ///< callback_scheduled: when it joins the line
  /// The voice webhook's `skills=`: replaces the first skill step's
  /// requirement for this call.
  std::map<std::string, int64_t> skills;
  /// The agent the call waits for (`preferLastAgentSeconds`) until
  /// `prefer_until_ms`; empty: anyone.
  std::string preferred_agent;
  int64_t prefer_until_ms = 0;

  /// Volatile (not from events, not in the digest): the client identity
  /// of the agent the current offer rings (and of each agent a ring-all
  /// offer rings).
  std::string agent_identity;
  std::vector<std::string> ring_identities;  ///< ring-all: each of ring_all's
};

/// One call.
struct call_state {
  std::string sid, from, to, queue, caller_name;
  std::string language;  ///< the language the caller asked for (empty: none)
  /// The FEATURE_* flags in force for this call.
  call_flags flags;
  call_phase phase = call_phase::arrived;
  // The bools sit together (each apart took 8 bytes with its padding).
  bool escalated = false;
  bool callback_offered = false;
  bool callback_agent_answered = false;
  bool callback_escalated = false;
  /// A queue refused the caller at arrival (never queued), and whether
  /// because it was closed (a callback then waits for the next opening).
  bool refused = false;
  bool refused_closed = false;
  /// Booked through `POST /api/callbacks` (no phone call came before it).
  bool booked = false;
  int64_t priority = 0;
  uint64_t order = 0;            ///< arrival number, the last tie-breaker
  int64_t arrived_ms = 0;
  int64_t enqueued_ms = 0;
  int64_t orig_position = 0;
  int64_t attempts = 0;          ///< offers made
  int64_t failed_in_row = 0;     ///< failed offers since the last connect
  int64_t last_failed_ms = 0;    ///< when the last offer failed
  int64_t ended_ms = 0;
  int64_t last_announce_ms = 0;
  /// The skills an agent needs to take the call now (skill -> minimum
  /// level; empty: anyone), the skill step in force (-1: none) and when
  /// the next step is due (0: none).
  std::map<std::string, int64_t> require;
  int64_t require_step = -1;
  int64_t require_next_ms = 0;
  /// When the call last overflowed into its queue (0: never); its wait
  /// for that queue's overflowAfterSeconds counts from then.
  int64_t overflowed_ms = 0;
  /// Events applied: the stream version this state is at.
  uint64_t version = 0;

  /// Volatile (not from events, not in the digest): the last time Twilio
  /// asked about this call (orphan detection).
  int64_t last_contact_ms = 0;

  /// Offers, callback, skills and preferred agent (call_routing): read
  /// with routing(), written with edit_routing().
  const call_routing& routing() const { return routing_.get(); }
  call_routing& edit_routing() { return routing_.edit(); }
  /// Whether anything of routing() was ever written.
  bool has_routing() const { return routing_.present(); }

  line_key key() const { return {escalated, priority, enqueued_ms, order}; }
  /// Everyone the current (or last) offer rang: its agent, or a
  /// ring-all's agents.
  std::vector<std::string> ringing_agents() const {
    const call_routing& r = routing();
    return r.ring_all.empty() ? std::vector<std::string>{r.agent_id} : r.ring_all;
  }
  /// When the call entered the queue it waits in now (its enqueue time,
  /// or the time it overflowed into it).
  int64_t queue_entered_ms() const { return overflowed_ms > 0 ? overflowed_ms : enqueued_ms; }
  /// Holds a place in its queue's line (positions count these).
  bool in_line() const {
    return phase == call_phase::queued || phase == call_phase::offered ||
           phase == call_phase::callback_waiting;
  }
  /// Can be offered to an agent now (a call or a callback).
  bool dispatchable() const {
    return phase == call_phase::queued || phase == call_phase::callback_waiting;
  }

 private:
  lazy_part<call_routing> routing_;
};

/// One call's state as its actor and the read model share it: the read
/// model adopts the actor's state once its events are durable instead of
/// keeping a copy of its own (each queued call's state is in memory once,
/// not twice). A shared state is never changed: a holder about to change
/// it calls make_own() first.
using shared_call_state = std::shared_ptr<call_state>;

/// Makes `c` its holder's own before a change: copies the state when
/// another holder (the read model, an append on its way to it) has it too,
/// and then returns the state it let go of (nullptr when it made no copy).
/// Only one thread at a time calls it for the same `c`.
shared_call_state make_own(shared_call_state& c);

/// Applies one event of the call's own stream to `c`. Reads no clock
/// (times come from the event) and decides nothing.
void apply(call_state& c, const events::event& e);

/// What a restart at `now_ms` does to every call (the `system.started`
/// event): it counts as contact, so that no caller is taken for gone
/// because the server was down.
void apply_restart(call_state& c, int64_t now_ms);

/// The canonical text of the durable state, for digests.
std::string digest_text(const call_state& c);

}  // namespace callq
