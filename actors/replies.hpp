// What the state logic answers, as typed values: for Twilio, a description
// of what the caller hears (http/ renders it as TwiML); for agents and
// operators, an outcome and a typed body (http/ picks the status code and
// renders JSON). Nothing here knows HTTP.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace callq {

/// What Twilio is told to do next, as data.
struct voice_reply {
  enum class kind {
    empty,               ///< <Response/>
    enqueue,             ///< optional greeting, then <Enqueue> into `queue`
    dial_agent,          ///< <Dial> the agent of `offer_id`
    hold,                ///< position/wait <Say>, callback <Gather>, music
    callback_confirmed,  ///< confirmation <Say>, <Leave/>
    callback_declined,   ///< short <Say>, keep waiting
    goodbye,             ///< goodbye <Say>, <Hangup/>
    hangup,              ///< <Hangup/>
    callback_dial,       ///< <Dial callerId> the customer for `callback_id`
    unavailable,         ///< apology <Say>, <Hangup/>
    callback_impossible, ///< <Say> that no callback is possible, keep waiting
    refused,             ///< `message` <Say>, optional callback <Gather>, <Hangup/>
    callback_booked,     ///< confirmation <Say> (now, or at the opening: `closed`), <Hangup/>
  };
  voice_reply() = default;
  /// A reply that is only its kind.
  voice_reply(kind k) : what(k) {}  // NOLINT: implicit on purpose

  kind what = kind::empty;
  std::string queue;          ///< enqueue
  std::string greeting_name;  ///< enqueue: caller's name, empty if unknown
  bool greet = false;         ///< enqueue: first time (not a re-queue)
  std::string offer_id;       ///< dial_agent
  std::string identity;       ///< dial_agent: the agent's client identity
  /// dial_agent, ring-all: every agent rung (id, client identity), each a
  /// `<Client>` with its own status callback; empty for one agent.
  std::vector<std::pair<std::string, std::string>> ring_all;
  bool announce = false;      ///< hold: say position and wait
  int64_t position = 0;       ///< hold
  int64_t wait_estimate_seconds = 0;  ///< hold
  bool offer_callback = false;        ///< hold: press 1 for a callback
  std::string callback_id;    ///< callback_dial
  std::string number;         ///< callback_dial: the customer
  /// refused: the queue's closed message, or empty for the words of a
  /// full or unstaffed queue.
  std::string message;
  bool closed = false;        ///< refused, callback_booked: outside opening hours
  /// The language the caller asked for (the directory's, else the voice
  /// webhook's `lang=`; empty: none): the rendering speaks the queue's
  /// nearest (prompts.hpp, speech_for). Set on every reply to a call.
  std::string language;
  /// hold: the prediction's 10th and 90th percentile (announceWait range
  /// and less-than).
  int64_t wait_low_seconds = 0, wait_high_seconds = 0;
  /// hold: music (FEATURE_QUEUE_HOLD_MUSIC for this call), else a pause.
  bool music = true;

  friend bool operator==(const voice_reply& a, const voice_reply& b) {
    return a.what == b.what && a.queue == b.queue && a.greeting_name == b.greeting_name &&
           a.greet == b.greet && a.offer_id == b.offer_id && a.identity == b.identity &&
           a.announce == b.announce && a.position == b.position &&
           a.wait_estimate_seconds == b.wait_estimate_seconds &&
           a.offer_callback == b.offer_callback && a.callback_id == b.callback_id &&
           a.number == b.number && a.message == b.message && a.closed == b.closed &&
           a.ring_all == b.ring_all && a.language == b.language &&
           a.wait_low_seconds == b.wait_low_seconds && a.wait_high_seconds == b.wait_high_seconds &&
           a.music == b.music;
  }
};

/// How a command ended, for the sender (http/ maps it to a status code).
enum class outcome {
  ok,            ///< done (or nothing to do)
  created,       ///< a new entity was created
  invalid,       ///< the request names something that does not exist or is malformed
  unauthorized,  ///< a credential did not match
  not_found,     ///< the addressed entity does not exist
  conflict,      ///< refused in the current state (e.g. an offer that lost a race)
  unavailable,   ///< no actor could answer (shutting down, overloaded)
  forbidden,     ///< a valid credential, for something that is not its own
};

/// An agent's answer to a heartbeat, or an agent created, updated or removed.
struct agent_answer {
  std::string agent_id;
  std::string state;       ///< as operators see it, e.g. "wrap-up"
  int64_t readiness = 0;
  int64_t heartbeat_interval_seconds = 0;
};

/// A caller directory entry as stored.
struct caller_answer {
  std::string number, name;
  int64_t priority = 0;
};

/// A queue's configuration as stored (canonical JSON text).
struct queue_answer {
  std::string queue, config_json;
};

/// A dispatcher sweep.
struct sweep_answer {
  int64_t offered = 0, waiting = 0, ready_agents = 0;
};

/// A heartbeat cleanup (`ids` expired) or a queue cleanup (`ids`
/// orphaned, `count` finished calls forgotten).
struct cleanup_answer {
  int64_t checked = 0, count = 0;
  std::vector<std::string> ids;
};

/// A call's answer to an offer the dispatcher proposes: taken (with the
/// offer or callback id Twilio will use) or refused.
struct offer_answer {
  bool taken = false;
  std::string offer_id;
};

/// A callback booked or canceled, with its state as `GET /api/callbacks`
/// names it.
struct callback_answer {
  std::string callback_id, state;
};

/// The answer to any command.
struct reply {
  outcome result = outcome::ok;
  std::string reason;  ///< one line, when `result` is not ok/created
  std::variant<std::monostate, voice_reply, agent_answer, caller_answer, sweep_answer,
               cleanup_answer, offer_answer, queue_answer, callback_answer>
      body;

  bool is_voice() const { return std::holds_alternative<voice_reply>(body); }
  const voice_reply& voice() const { return std::get<voice_reply>(body); }

  static reply twiml(voice_reply v) {
    reply r;
    r.body = std::move(v);
    return r;
  }
  template <class T> static reply of(T body, outcome o = outcome::ok) {
    reply r;
    r.result = o;
    r.body = std::move(body);
    return r;
  }
  static reply fail(outcome o, std::string why) {
    reply r;
    r.result = o;
    r.reason = std::move(why);
    return r;
  }
  bool failed() const { return result != outcome::ok && result != outcome::created; }
};

}  // namespace callq
