// The catalogue of everything callq records. Each struct is one event type:
// a stable wire name, a schema version and its fields, listed once in
// `fields()`. The binary and JSON codecs (codec.hpp) are generic over that
// list, so adding a field or a type needs no codec code.
//
// Field types are limited to std::string, int64_t, bool,
// std::vector<std::string> and std::map<std::string, int64_t>. Times inside payloads are milliseconds since the
// Unix epoch (`...Ms`) or whole seconds (`...Seconds`).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "events/flag_set.hpp"

namespace callq::events {

using string_list = std::vector<std::string>;
/// Names with a number each: queue penalties, skill levels.
using level_map = std::map<std::string, int64_t>;

// ---------------------------------------------------------------- calls --

/// A call reached the voice webhook.
/// `order` (schema 2) is the call's arrival number, the last tie-breaker
/// of dispatch order; schema 1 events lack it (0: the log's sequence number
/// stands in). `skills` (schema 3): the voice webhook's `skills=` (skill ->
/// minimum level), which replaces the first skill step's requirement for
/// this call; empty when not given. `language` (schema 4): the language
/// the caller asked for, the directory's else the webhook's `lang=`
/// (empty: none); the queue's own is used when it does not speak it.
/// `flags` (schema 4): the FEATURE_* flags in force for this call, name ->
/// 1 on / 0 off (decided per call for a flag given as a share).
struct call_arrived {
  static constexpr const char* name = "call.arrived";
  static constexpr int64_t schema = 4;
  std::string call_sid, from, to, queue, caller_name;
  int64_t priority = 0;
  int64_t order = 0;
  level_map skills;
  std::string language;
  flag_set flags;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("from", from); f("to", to); f("queue", queue);
    f("callerName", caller_name); f("priority", priority); f("order", order);
    f("skills", skills); f("language", language); f("flags", flags);
  }
};

/// The call joined its queue. `position` is the 1-based place it entered at
/// (the queue_log `origpos`); the enqueue time is the envelope's timestamp.
struct call_enqueued {
  static constexpr const char* name = "call.enqueued";
  static constexpr int64_t schema = 1;
  std::string call_sid, queue;
  int64_t priority = 0, position = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("queue", queue); f("priority", priority);
    f("position", position);
  }
};

/// The skills a waiting call needs changed: when it joins a line whose
/// queue has `skillSteps` (or the call has its own `skills`), and each time
/// its wait reaches the next step (a relaxation), all in virtual time.
/// `step` is the index of the `skillSteps` entry in force (-1 before the
/// first), `require` what an agent needs (skill -> minimum level; empty:
/// anyone), `nextStepMs` when the next step is due (0: none).
struct call_requirements_set {
  static constexpr const char* name = "call.requirements_set";
  static constexpr int64_t schema = 1;
  std::string call_sid, queue;
  int64_t step = -1;
  level_map require;
  int64_t next_step_ms = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("queue", queue); f("step", step); f("require", require);
    f("nextStepMs", next_step_ms);
  }
};

/// A waiting caller moved from `queue` to `toQueue` after waiting its
/// `overflowAfterSeconds` there (a timer, in virtual time). The call keeps
/// its enqueue time and priority; `position`, `origPosition` and
/// `waitSeconds` are its place and wait in the queue it left (queue_log's
/// EXITWITHTIMEOUT), `newPosition` the place it entered at in `toQueue`
/// (its ENTERQUEUE).
struct call_overflowed {
  static constexpr const char* name = "call.overflowed";
  static constexpr int64_t schema = 1;
  std::string call_sid, queue, to_queue;
  int64_t position = 0, orig_position = 0, wait_seconds = 0, new_position = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("queue", queue); f("toQueue", to_queue);
    f("position", position); f("origPosition", orig_position);
    f("waitSeconds", wait_seconds); f("newPosition", new_position);
  }
};

/// Which agent a waiting call waits for (`preferLastAgentSeconds`):
/// `agentId`, the agent the caller last talked to, until `untilMs`, with
/// `reason` `last-agent`; or, with `agentId` empty, anyone again, with
/// `reason` `timeout` (the wait for that agent ran out) or `unstaffed`
/// (the agent stopped being staffed or a member).
struct call_agent_preferred {
  static constexpr const char* name = "call.agent_preferred";
  static constexpr int64_t schema = 1;
  std::string call_sid, queue, agent_id, reason;
  int64_t until_ms = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("queue", queue); f("agentId", agent_id); f("reason", reason);
    f("untilMs", until_ms);
  }
};

/// The waiting caller was told their position and estimated wait.
/// Schema 2 adds the prediction's 10th and 90th percentile
/// (`waitLowSeconds`, `waitHighSeconds`; 0 in schema 1) and `spoken`: what
/// the caller heard of the wait (`estimate`, `range`, `less-than`, `off`).
struct call_announced {
  static constexpr const char* name = "call.announced";
  static constexpr int64_t schema = 2;
  std::string call_sid;
  int64_t position = 0, estimated_wait_seconds = 0;
  int64_t wait_low_seconds = 0, wait_high_seconds = 0;
  std::string spoken;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("position", position);
    f("estimatedWaitSeconds", estimated_wait_seconds);
    f("waitLowSeconds", wait_low_seconds); f("waitHighSeconds", wait_high_seconds);
    f("spoken", spoken);
  }
};

/// The call was offered to an agent (redirect to `<Dial>` the agent).
/// `agents` (schema 2): a ring-all offer's agents, all rung at once
/// (`agentId` is the first); empty for an offer to one agent.
struct call_offered {
  static constexpr const char* name = "call.offered";
  static constexpr int64_t schema = 2;
  std::string call_sid, agent_id, offer_id, queue;
  int64_t attempt = 0;
  bool direct = false;  ///< legacy routing: dialled from the voice webhook
  string_list agents = {};
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("agentId", agent_id); f("offerId", offer_id);
    f("queue", queue); f("attempt", attempt); f("direct", direct); f("agents", agents);
  }
};

/// An offer ended without a connection: no-answer, busy, failed, canceled,
/// redirect-failed, timeout, recovered (open at restart), caller-hangup.
/// `agents` (schema 2): every agent a ring-all offer rang (all failed);
/// empty for an offer to one agent.
struct call_offer_failed {
  static constexpr const char* name = "call.offer_failed";
  static constexpr int64_t schema = 2;
  std::string call_sid, agent_id, offer_id, reason;
  int64_t ring_ms = 0;
  string_list agents = {};
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("agentId", agent_id); f("offerId", offer_id);
    f("reason", reason); f("ringMs", ring_ms); f("agents", agents);
  }
};

/// The agent answered; caller and agent are talking. For a ring-all offer
/// `agentId` is the agent whose leg answered first.
struct call_connected {
  static constexpr const char* name = "call.connected";
  static constexpr int64_t schema = 1;
  std::string call_sid, agent_id, offer_id;
  int64_t hold_seconds = 0, ring_ms = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("agentId", agent_id); f("offerId", offer_id);
    f("holdSeconds", hold_seconds); f("ringMs", ring_ms);
  }
};

/// A connected call ended. `ended_by` is `caller` or `agent`.
struct call_completed {
  static constexpr const char* name = "call.completed";
  static constexpr int64_t schema = 1;
  std::string call_sid, agent_id, ended_by;
  int64_t hold_seconds = 0, talk_seconds = 0, orig_position = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("agentId", agent_id); f("endedBy", ended_by);
    f("holdSeconds", hold_seconds); f("talkSeconds", talk_seconds);
    f("origPosition", orig_position);
  }
};

/// The caller hung up (or the entry was orphaned) before being connected.
struct call_abandoned {
  static constexpr const char* name = "call.abandoned";
  static constexpr int64_t schema = 1;
  std::string call_sid, queue, reason;
  int64_t position = 0, orig_position = 0, wait_seconds = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("queue", queue); f("reason", reason);
    f("position", position); f("origPosition", orig_position);
    f("waitSeconds", wait_seconds);
  }
};

/// Failed offers in a row moved the call to the front of its queue.
struct call_escalated {
  static constexpr const char* name = "call.escalated";
  static constexpr int64_t schema = 1;
  std::string call_sid, reason;
  int64_t failed_offers = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("reason", reason);
    f("failedOffers", failed_offers);
  }
};

/// The waiting caller is now offered "press 1 for a callback".
/// `reason`: `max-wait` or `max-attempts`.
struct callback_offered {
  static constexpr const char* name = "callback.offered";
  static constexpr int64_t schema = 1;
  std::string call_sid, reason;
  int64_t wait_seconds = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("reason", reason); f("waitSeconds", wait_seconds);
  }
};

/// The caller asked for a callback; they leave the phone queue but keep
/// their place.
/// `dueMs` (schema 2): when the callback joins the queue's line; 0 (and
/// schema 1) for at once. A caller who asked outside opening hours gets
/// the next opening; until then the callback is scheduled.
struct callback_requested {
  static constexpr const char* name = "callback.requested";
  static constexpr int64_t schema = 2;
  std::string call_sid, callback_id, number, key, queue;
  int64_t position = 0, orig_position = 0, wait_seconds = 0;
  int64_t due_ms = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("callbackId", callback_id); f("number", number);
    f("key", key); f("queue", queue); f("position", position);
    f("origPosition", orig_position); f("waitSeconds", wait_seconds); f("dueMs", due_ms);
  }
};

/// A scheduled callback's time came: it joins its queue's line now (the
/// envelope's time is its place in the line). Schema 2: with
/// `hasPriority`, it joins with `priority` (the caller directory's, for a
/// callback booked through the API); without (and schema 1), with the
/// call's own.
struct callback_due {
  static constexpr const char* name = "callback.due";
  static constexpr int64_t schema = 2;
  std::string call_sid, callback_id, queue;
  int64_t priority = 0;
  bool has_priority = false;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("callbackId", callback_id); f("queue", queue);
    f("priority", priority); f("hasPriority", has_priority);
  }
};

/// An operator booked a callback (`POST /api/callbacks`). The first event
/// of its own stream, `call/<callbackId>` (`callSid` is the callback id:
/// no phone call came before it). `dueMs`: when it joins `queue`'s line
/// (0: at once); `priority`: the caller directory's for `number` now;
/// `order`: its arrival number, the last tie-breaker of dispatch order.
struct callback_scheduled {
  static constexpr const char* name = "callback.scheduled";
  static constexpr int64_t schema = 1;
  std::string call_sid, callback_id, number, queue, caller_name;
  int64_t priority = 0, order = 0, due_ms = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("callbackId", callback_id); f("number", number);
    f("queue", queue); f("name", caller_name); f("priority", priority); f("order", order);
    f("dueMs", due_ms);
  }
};

/// An operator canceled a callback that had not started
/// (`DELETE /api/callbacks/{id}`); its call is finished.
struct callback_canceled {
  static constexpr const char* name = "callback.canceled";
  static constexpr int64_t schema = 1;
  std::string call_sid, callback_id;
  template <class F> void fields(F&& f) { f("callSid", call_sid); f("callbackId", callback_id); }
};

/// A queue did not take the arriving caller. `reason`: `full` (maxWaiting
/// callers wait), `no-agents` (joinWhenNoAgents is false and no member is
/// staffed) or `closed` (outside its hours). `action`: `overflow` (the
/// call goes on to `overflowQueue`, which decides again), `hangup`,
/// `message` (closed: the message, then hang up) or `callback` (the
/// caller is offered "press 1 for a callback"). `position` is the place
/// the caller would have had (the queue_log's pos).
struct call_refused {
  static constexpr const char* name = "call.refused";
  static constexpr int64_t schema = 1;
  std::string call_sid, queue, reason, action, overflow_queue;
  int64_t position = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("queue", queue); f("reason", reason); f("action", action);
    f("overflowQueue", overflow_queue); f("position", position);
  }
};

/// A refused caller offered a callback left without one: `reason`
/// `declined` (another key), `hangup`, or `timeout` (no answer in time).
struct call_turned_away {
  static constexpr const char* name = "call.turned_away";
  static constexpr int64_t schema = 1;
  std::string call_sid, reason;
  template <class F> void fields(F&& f) { f("callSid", call_sid); f("reason", reason); }
};

/// An agent was dialled for a callback attempt.
struct callback_started {
  static constexpr const char* name = "callback.started";
  static constexpr int64_t schema = 1;
  std::string call_sid, callback_id, agent_id;
  int64_t attempt = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("callbackId", callback_id);
    f("agentId", agent_id); f("attempt", attempt);
  }
};

/// Twilio accepted a callback attempt's outbound call to the agent:
/// `legSid` is the CallSid of that call, from Twilio's answer (recorded
/// before the agent answers; none when the answer was lost).
struct callback_call_placed {
  static constexpr const char* name = "callback.call_placed";
  static constexpr int64_t schema = 1;
  std::string call_sid, callback_id, leg_sid;
  int64_t attempt = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("callbackId", callback_id);
    f("legSid", leg_sid); f("attempt", attempt);
  }
};

/// The agent answered the callback leg; callq now dials the customer.
/// Schema 2 adds `legSid`, the CallSid of the leg answered (empty in
/// schema 1).
struct callback_agent_answered {
  static constexpr const char* name = "callback.agent_answered";
  static constexpr int64_t schema = 2;
  std::string call_sid, callback_id, agent_id, leg_sid;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("callbackId", callback_id);
    f("agentId", agent_id); f("legSid", leg_sid);
  }
};

/// The agent reached the customer.
struct callback_completed {
  static constexpr const char* name = "callback.completed";
  static constexpr int64_t schema = 1;
  std::string call_sid, callback_id, agent_id;
  int64_t talk_seconds = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("callbackId", callback_id);
    f("agentId", agent_id); f("talkSeconds", talk_seconds);
  }
};

/// A callback attempt failed; `final` when no attempt is left.
struct callback_failed {
  static constexpr const char* name = "callback.failed";
  static constexpr int64_t schema = 1;
  std::string call_sid, callback_id, agent_id, reason;
  int64_t attempt = 0;
  bool final = false;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("callbackId", callback_id);
    f("agentId", agent_id); f("reason", reason); f("attempt", attempt);
    f("final", final);
  }
};

/// A callback was not started within CALLBACK_SLA.
struct callback_escalated {
  static constexpr const char* name = "callback.escalated";
  static constexpr int64_t schema = 1;
  std::string call_sid, callback_id;
  int64_t waited_seconds = 0;
  template <class F> void fields(F&& f) {
    f("callSid", call_sid); f("callbackId", callback_id);
    f("waitedSeconds", waited_seconds);
  }
};

// --------------------------------------------------------------- agents --

/// An agent was created by the admin API. Only a hash of the token is kept.
/// Schema 2 adds `penalties` (queue -> penalty, 0 when absent) and
/// `skillLevels` (skill -> level 1-10); in schema 1 every skill in `skills`
/// has level 1.
struct agent_created {
  static constexpr const char* name = "agent.created";
  static constexpr int64_t schema = 2;
  std::string agent_id, display_name, client_identity, token_hash;
  string_list queues, skills;
  level_map penalties, skill_levels;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("name", display_name);
    f("clientIdentity", client_identity); f("tokenHash", token_hash);
    f("queues", queues); f("skills", skills);
    f("penalties", penalties); f("skillLevels", skill_levels);
  }
};

/// An agent's profile changed (token unchanged). Schema 2 as
/// `agent.created`.
struct agent_updated {
  static constexpr const char* name = "agent.updated";
  static constexpr int64_t schema = 2;
  std::string agent_id, display_name, client_identity;
  string_list queues, skills;
  level_map penalties, skill_levels;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("name", display_name);
    f("clientIdentity", client_identity); f("queues", queues);
    f("skills", skills);
    f("penalties", penalties); f("skillLevels", skill_levels);
  }
};

/// An agent was removed (after being logged out).
struct agent_removed {
  static constexpr const char* name = "agent.removed";
  static constexpr int64_t schema = 1;
  std::string agent_id;
  template <class F> void fields(F&& f) { f("agentId", agent_id); }
};

/// The agent reported a new status: available, busy, break or offline.
/// Schema 2 adds `reason`: with status `break`, the reason the agent gave
/// (one of AGENT_PAUSE_REASONS; empty when none was given). A break whose
/// reason changes is recorded again with the same status and previous.
struct agent_status_changed {
  static constexpr const char* name = "agent.status_changed";
  static constexpr int64_t schema = 2;
  std::string agent_id, status, previous, reason;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("status", status); f("previous", previous);
    f("reason", reason);
  }
};

/// The agent's softphone registered or unregistered.
struct agent_device_changed {
  static constexpr const char* name = "agent.device_changed";
  static constexpr int64_t schema = 1;
  std::string agent_id;
  bool registered = false;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("registered", registered);
  }
};

/// A heartbeat arrived from an agent that was stale (or not heard from
/// since the server started): the agent may be offered calls again.
struct agent_heartbeat_resumed {
  static constexpr const char* name = "agent.heartbeat_resumed";
  static constexpr int64_t schema = 1;
  std::string agent_id;
  template <class F> void fields(F&& f) { f("agentId", agent_id); }
};

/// No heartbeat for AGENT_HEARTBEAT_TIMEOUT: no offers until the next one.
struct agent_heartbeat_expired {
  static constexpr const char* name = "agent.heartbeat_expired";
  static constexpr int64_t schema = 1;
  std::string agent_id, reason;
  int64_t last_heartbeat_age_seconds = 0;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("reason", reason);
    f("lastHeartbeatAgeSeconds", last_heartbeat_age_seconds);
  }
};

/// The agent was put on break by callq (reason `auto-pause`).
struct agent_paused {
  static constexpr const char* name = "agent.paused";
  static constexpr int64_t schema = 1;
  std::string agent_id, reason;
  int64_t missed_offers = 0;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("reason", reason);
    f("missedOffers", missed_offers);
  }
};

/// The agent came back from an auto-pause.
struct agent_unpaused {
  static constexpr const char* name = "agent.unpaused";
  static constexpr int64_t schema = 1;
  std::string agent_id, reason;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("reason", reason);
  }
};

/// The agent took an offer (its side of `call.offered`) or a callback
/// attempt (`offer_id` is then the callback id): its phone rings.
/// Schema 2 adds the call's `queue` (per-queue answered calls and talk
/// time for the fewest-calls and least-talk-time strategies).
struct agent_offer_received {
  static constexpr const char* name = "agent.offer_received";
  static constexpr int64_t schema = 2;
  std::string agent_id, offer_id, call_sid, queue;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("offerId", offer_id); f("callSid", call_sid);
    f("queue", queue);
  }
};

/// The agent answered that offer: on a call with `call_sid`.
struct agent_offer_answered {
  static constexpr const char* name = "agent.offer_answered";
  static constexpr int64_t schema = 1;
  std::string agent_id, offer_id, call_sid;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("offerId", offer_id); f("callSid", call_sid);
  }
};

/// The offer ended without a call for the agent (or a callback's customer
/// was not reached after the agent answered). `missed` when it counts
/// against the agent (no-answer, busy, failed, timeout).
struct agent_offer_ended {
  static constexpr const char* name = "agent.offer_ended";
  static constexpr int64_t schema = 1;
  std::string agent_id, offer_id, call_sid, reason;
  bool missed = false;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("offerId", offer_id); f("callSid", call_sid);
    f("reason", reason); f("missed", missed);
  }
};

/// A call ended; the agent gets no offer until `until_ms`.
struct agent_wrap_up_started {
  static constexpr const char* name = "agent.wrap_up_started";
  static constexpr int64_t schema = 1;
  std::string agent_id, call_sid;
  int64_t until_ms = 0;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("callSid", call_sid); f("untilMs", until_ms);
  }
};

/// Wrap-up time is over.
struct agent_wrap_up_ended {
  static constexpr const char* name = "agent.wrap_up_ended";
  static constexpr int64_t schema = 1;
  std::string agent_id;
  template <class F> void fields(F&& f) { f("agentId", agent_id); }
};

/// The agent recorded the outcome of a call it talked on (the agent
/// page's wrap-up): a disposition from its queue's `dispositions` (empty
/// when the queue asks none) and free-text notes (plain text, at most
/// 2,000 characters).
struct agent_wrap_up_recorded {
  static constexpr const char* name = "agent.wrap_up_recorded";
  static constexpr int64_t schema = 1;
  std::string agent_id, call_sid, queue, disposition, notes;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("callSid", call_sid); f("queue", queue);
    f("disposition", disposition); f("notes", notes);
  }
};

/// The agent's readiness score (0-100) changed.
struct agent_readiness_changed {
  static constexpr const char* name = "agent.readiness_changed";
  static constexpr int64_t schema = 1;
  std::string agent_id;
  int64_t readiness = 0, previous = 0;
  template <class F> void fields(F&& f) {
    f("agentId", agent_id); f("readiness", readiness); f("previous", previous);
  }
};

// --------------------------------------------------------------- queues --

/// A queue's configuration was created or replaced. `config` is the whole
/// configuration as canonical JSON (the `PUT /api/queues/{name}` body with
/// every default filled in), so the rules in force are in the log as
/// operators wrote them.
struct queue_configured {
  static constexpr const char* name = "queue.configured";
  static constexpr int64_t schema = 1;
  std::string queue, config;
  template <class F> void fields(F&& f) { f("queue", queue); f("config", config); }
};

/// A queue's configuration was removed: the queue is back to the defaults.
struct queue_removed {
  static constexpr const char* name = "queue.removed";
  static constexpr int64_t schema = 1;
  std::string queue;
  template <class F> void fields(F&& f) { f("queue", queue); }
};

// ------------------------------------------------------ directory, system --

/// A caller directory entry was created or changed. Schema 2 adds the
/// caller's `language` (BCP 47; empty: none).
struct caller_set {
  static constexpr const char* name = "caller.set";
  static constexpr int64_t schema = 2;
  std::string number, display_name;
  int64_t priority = 0;
  std::string language;
  template <class F> void fields(F&& f) {
    f("number", number); f("name", display_name); f("priority", priority);
    f("language", language);
  }
};

/// The server started: every agent must heartbeat again before an offer.
struct system_started {
  static constexpr const char* name = "system.started";
  static constexpr int64_t schema = 1;
  std::string version;
  template <class F> void fields(F&& f) { f("version", version); }
};

/// A digest of the whole state after event `seq` (schema 1: after every
/// event before this one), written by the server so that `callq replay
/// --verify` can compare.
struct system_state_digest {
  static constexpr const char* name = "system.state_digest";
  static constexpr int64_t schema = 2;
  std::string digest;
  int64_t seq = 0;
  template <class F> void fields(F&& f) { f("digest", digest); f("seq", seq); }
};

/// Every event type. The order is irrelevant to the stored format (types
/// are stored by name), so new types may go anywhere.
using payload = std::variant<
    call_arrived, call_enqueued, call_announced, call_offered,
    call_offer_failed, call_connected, call_completed, call_abandoned,
    call_escalated, callback_offered, callback_requested, callback_started,
    callback_agent_answered, callback_completed, callback_failed, callback_escalated, agent_created,
    agent_updated, agent_removed, agent_status_changed, agent_device_changed,
    agent_heartbeat_resumed, agent_heartbeat_expired, agent_paused,
    agent_unpaused, agent_wrap_up_started, agent_wrap_up_ended,
    agent_readiness_changed, agent_offer_received, agent_offer_answered,
    agent_offer_ended, caller_set, system_started, system_state_digest,
    queue_configured, queue_removed, callback_due, call_refused, call_turned_away,
    call_requirements_set, call_overflowed, call_agent_preferred, callback_scheduled,
    callback_canceled, agent_wrap_up_recorded, callback_call_placed>;

}  // namespace callq::events
