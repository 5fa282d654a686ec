// The commands the state logic decides: one struct per thing that can
// happen to the contact centre from outside (Twilio, agents, operators,
// timers). They carry parsed, validated input only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace callq::cmd {

/// A call came in to the number (voice webhook).
struct incoming_call {
  std::string call_sid, from, to, queue, caller_name;
  std::optional<int64_t> priority;  ///< from the webhook's query, if given
  std::map<std::string, int64_t> skills = {};  ///< the webhook's `skills=`, if given
  std::string language = {};  ///< the webhook's `lang=` (a BCP 47 tag), if given
};
/// Twilio's waitUrl asks what the waiting caller hears next.
struct hold_poll { std::string call_sid; };
/// The caller pressed a key in the callback `<Gather>`.
struct callback_response { std::string call_sid, digits; };
/// The caller left the Twilio queue (`<Enqueue action>`).
struct queue_left { std::string call_sid, result; };
/// Twilio fetched the connect-agent URL of an offer.
struct connect_agent { std::string offer_id; };
/// Status of the agent's leg of an offer; `agent_id` names the leg of a
/// ring-all offer (empty: the offer's first agent).
struct agent_leg_status { std::string offer_id, call_status, agent_id = {}; };
/// The offer's `<Dial>` ended.
struct dial_result {
  std::string offer_id, dial_status, call_status;
  int64_t duration_seconds = 0;
};
/// The caller's call ended.
struct call_status { std::string call_sid, status; };
/// The agent answered the callback call: `leg_sid` is that call's
/// CallSid (the leg Twilio placed to the agent).
struct callback_connect { std::string callback_id, leg_sid; };
/// The callback's `<Dial>` to the customer ended.
struct callback_result {
  std::string callback_id, dial_status;
  int64_t duration_seconds = 0;
};
/// The REST redirect for an offer failed for good.
struct redirect_failed { std::string offer_id, reason; };
/// The REST call that starts a callback failed for good.
struct callback_call_failed { std::string callback_id, reason; };
/// Twilio accepted the REST call of callback attempt `attempt`; `leg_sid`
/// is the CallSid it gave the new call.
struct callback_call_placed {
  std::string callback_id, leg_sid;
  int64_t attempt = 0;
};

/// An agent heartbeat. `token_hash` is SHA-256 hex of the bearer token;
/// without `device_registered` the last reported device state stands.
struct heartbeat {
  std::string agent_id, token_hash, status;
  std::optional<bool> device_registered;
  /// With status `break`: the reason given (one of AGENT_PAUSE_REASONS,
  /// checked by the HTTP layer); empty when none.
  std::string reason = {};
};
/// The agent page's wrap-up: the outcome of the agent's last call
/// (`call_sid`). `dispositions` are those of that call's queue, filled in
/// by the runtime from the queue's configuration: `disposition` must be
/// one of them (empty when the list is). `ready`: end wrap-up now.
struct wrap_up {
  std::string agent_id, token_hash, call_sid, disposition, notes;
  bool ready = false;
  std::vector<std::string> dispositions = {};
};
/// Create or update an agent. `token_hash` is used on creation only.
/// `penalties`: queue -> penalty for members with one; `skill_levels`:
/// every skill in `skills` with its level (1-10).
struct put_agent {
  std::string agent_id, display_name, client_identity, token_hash;
  std::vector<std::string> queues, skills;
  std::map<std::string, int64_t> penalties, skill_levels;
};
/// Remove an agent.
struct delete_agent { std::string agent_id; };
/// Create or replace a queue's configuration (`config_json`: the
/// validated configuration in canonical JSON).
struct put_queue { std::string queue, config_json; };
/// Remove a queue's configuration.
struct delete_queue { std::string queue; };
/// Book a callback to `number` in `queue` at `at_ms` (0 or past: join
/// the line now); `name` for the agent's screen (empty: the directory's).
/// `callback_id` is given by the runtime, which creates its stream.
struct schedule_callback {
  std::string callback_id, number, queue, name;
  int64_t at_ms = 0;
};
/// Cancel a callback that has not started.
struct cancel_callback { std::string callback_id; };
/// Set a caller directory entry.
struct put_caller {
  std::string number, display_name;
  int64_t priority = 0;
  std::string language = {};  ///< BCP 47; empty: none
};

// Internal commands: messages between the call, agent and dispatcher
// actors (the reservation protocol and offer outcomes).

/// Dispatcher to call: take an offer to `agent_id`, who has reserved
/// itself for this call. `direct`: legacy routing, dialled from the voice
/// webhook's answer rather than by a REST redirect.
/// `also`: a ring-all offer's other agents (id, client identity), each
/// reserved like the first and rung at once.
/// `take_by_ms`: the offer is refused (the reservations are released)
/// when the call decides after this time, half the agents' reservation
/// time after they were asked, so that the agents' confirm arrives before
/// their reservation could time out (0: no limit).
/// `queue`: the queue whose members the agents were matched among (the
/// call's view's); a call that has moved since (an overflow) refuses, and
/// is matched again in its new queue.
/// `require`: the call's skill requirement as the dispatcher matched the
/// agents against it (its view's); a call whose requirement has changed
/// since (a skill step, a queue's new steps) refuses, and is matched
/// again under its new one.
struct take_offer {
  std::string offer_id, agent_id, identity, queue;
  bool direct = false;
  std::vector<std::pair<std::string, std::string>> also = {};
  int64_t take_by_ms = 0;
  std::map<std::string, int64_t> require = {};
};
/// Agent to call: the agent side of `offer_id` is gone (agent `agent_id`
/// removed, or the reservation was lost); the offer fails with `reason`.
struct rescind_offer { std::string offer_id, reason, agent_id = {}; };
/// Dispatcher to agent: take offer `offer_id` (or the callback attempt
/// whose id it is) for `call_sid` now -- the phone rings -- and hold it as
/// reservation `reservation` until the call side confirms or releases it.
struct reserve {
  uint64_t reservation = 0;
  /// `queue`: the call's queue, which the agent was matched as a member
  /// of; an agent no longer a member (its profile changed meanwhile)
  /// refuses.
  std::string offer_id, call_sid, queue;
  /// The agent-side checks the call's flags apply (agent_check bits);
  /// -1: the server's own.
  int checks = -1;
  /// The call's skill requirement the agent was matched against: an agent
  /// whose skills no longer meet it (its profile changed meanwhile)
  /// refuses.
  std::map<std::string, int64_t> require = {};
};
/// Dispatcher to agent: the call took the offer; the reservation ends and
/// the offer lives on until the call reports its outcome.
struct confirm_reservation { uint64_t reservation = 0; };
/// Dispatcher to agent: the call could not take the offer (or never
/// answered); the reservation and the offer end with `reason`.
struct release_reservation {
  uint64_t reservation = 0;
  std::string reason;
};

/// Timers: everything due by now fires.
struct tick {};
/// Run a full dispatcher sweep (backstop / cron).
struct sweep {};
/// Expire every agent whose heartbeat is stale.
struct heartbeat_cleanup {};
/// Drop finished calls from memory and abandon orphaned waiting ones.
struct queue_cleanup {};
/// After a restart: resolve open offers and callbacks, mark the start.
struct recover { std::string version; };
/// Record a digest of the current state in the log.
struct record_digest {};

using command = std::variant<
    incoming_call, hold_poll, callback_response, queue_left, connect_agent,
    agent_leg_status, dial_result, call_status, callback_connect,
    callback_result, redirect_failed, callback_call_failed, callback_call_placed, heartbeat,
    put_agent, delete_agent, put_caller, put_queue, delete_queue, tick, sweep, heartbeat_cleanup,
    queue_cleanup, recover, record_digest, schedule_callback, cancel_callback, wrap_up>;

}  // namespace callq::cmd
