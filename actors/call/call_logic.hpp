// One call's command handler: a command (a Twilio webhook for this call,
// a timer, the dispatcher's offer, the agent side's news) is decided into
// events, an answer and effects. Pure: no CAF, no clock reads (the time
// is in the context), no I/O.
//
// Deciding is a sequence of steps; each emits an event that is applied to
// the state at once (through apply(), the only code that changes it), so
// later steps see it: first the timers that are due, then the command's own
// events, then the follow-up rules (escalation, callback offer).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "actors/call/call_state.hpp"
#include "actors/commands.hpp"
#include "actors/dispatcher/queue_config.hpp"
#include "actors/dispatcher/views.hpp"
#include "actors/effects.hpp"
#include "actors/policy.hpp"
#include "actors/replies.hpp"

namespace callq {

/// Everything a call handles.
using call_command =
    std::variant<cmd::incoming_call, cmd::hold_poll, cmd::callback_response, cmd::queue_left,
                 cmd::connect_agent, cmd::agent_leg_status, cmd::dial_result, cmd::call_status,
                 cmd::callback_connect, cmd::callback_result, cmd::redirect_failed,
                 cmd::callback_call_failed, cmd::callback_call_placed, cmd::take_offer, cmd::rescind_offer, cmd::tick,
                 cmd::queue_cleanup, cmd::recover, cmd::schedule_callback, cmd::cancel_callback>;

/// A caller directory entry.
struct caller_entry {
  std::string display_name;
  int64_t priority = 0;
  std::string language = {};  ///< BCP 47; empty: none
};

/// What a queue's admission rules look at when a caller arrives.
struct queue_facts {
  queue_config config;  ///< defaults for a queue nobody configured
  int64_t waiting = 0;  ///< calls holding a place in its line
  int64_t staffed = 0;  ///< staffed members
};

/// What a call's decisions need from outside its own stream, gathered by
/// its shell from the read model.
struct call_context {
  const policy* rules = nullptr;
  int64_t now_ms = 0;
  /// 1-based place that `key` has (or would have) in the line of `queue`,
  /// not counting the call itself twice.
  std::function<int64_t(const std::string& queue, const line_key& key)> position_of;
  int64_t staffed_agents = 0;  ///< staffed agents in the call's queue
  int64_t avg_handle_ms = 0;   ///< 0 until a call has completed
  double abandon_per_ms = 0;   ///< how fast one waiting caller gives up; 0 unknown
  /// The directory's entry for `From` (arrival, a booked callback's
  /// creation and its time to join the line).
  caller_entry caller;
  uint64_t order = 0;          ///< arrival number for a new call
  std::function<std::string()> next_callback_id;
  /// A queue's configuration, line length and staffing (arrival and the
  /// answer to a callback offer); unset: every queue takes every caller.
  std::function<queue_facts(const std::string& queue)> queue_facts_of;
  /// A queue's configuration now (skill steps, overflow, preferred
  /// agent); unset: every queue runs on the defaults.
  std::function<queue_config(const std::string& queue)> config_of;
  /// The agent a caller's number last talked to (empty: none or unknown).
  std::function<std::string(const std::string& number)> last_agent_of;
  /// Whether an agent is a staffed member of a queue who meets a
  /// requirement (so a call may wait for that agent).
  std::function<bool(const std::string& queue, const std::string& agent_id,
                     const std::map<std::string, int64_t>& require)>
      agent_can_take;
};

/// What one command decided.
struct call_decision {
  std::vector<events::event> events;  ///< already applied, in order
  reply answer;
  std::vector<rest_job> jobs;          ///< after the events are durable
  std::vector<offer_notice> notices;   ///< to the agent of an offer
  /// Legacy routing: the voice webhook wants the best ready agent now.
  bool wants_direct_agent = false;
};

/// Decides `c` for `state` (which it changes only by applying the events
/// it emits).
call_decision decide(call_state& state, const call_command& c, const call_context& ctx);

/// The next time this call needs a tick (a wait limit, an offer or
/// callback ring timeout, the end of a rest, the next skill step, the end
/// of the wait for a preferred agent, the overflow of `queue`, the
/// configuration of the call's queue), or 0 for none. Every deadline but
/// a rest's needs its tick to act (a past one is due at once); a rest
/// that ended by `now` needs none (its end only makes the call
/// dispatchable again, which the tick at its end said), so it no longer
/// counts.
int64_t next_deadline(const call_state& c, const policy& p, const queue_config& queue, int64_t now);

/// The call as the dispatcher's matching index sees it, naming it by `sid`
/// (the registry's copy of `c.sid`; empty: a copy of its own is made).
call_view view_of(const call_state& c, const policy& p, call_sid sid = {});

/// Whether a restart leaves `c` with something open that only its
/// recovery (`cmd::recover`) resolves: an offer whose phones may have
/// rung, or a callback's call being placed. Any other call's due work is
/// its deadline's (next_deadline): a restart need not ask it.
bool open_at_restart(const call_state& c);

/// Why callback `id`, in `phase`, cannot be canceled (`409`'s reason).
std::string cancel_refusal(const std::string& id, call_phase phase);

/// Callbacks are on and the caller's `From` can be dialled back.
bool can_call_back(const call_state& c, const policy& p);

}  // namespace callq
