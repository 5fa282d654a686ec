// What the state logic answers: for Twilio, a description of what the
// caller hears (the HTTP layer renders it as TwiML); for agents and
// operators, a status code and a JSON body.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

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
  bool announce = false;      ///< hold: say position and wait
  int64_t position = 0;       ///< hold
  int64_t wait_estimate_seconds = 0;  ///< hold
  bool offer_callback = false;        ///< hold: press 1 for a callback
  std::string callback_id;    ///< callback_dial
  std::string number;         ///< callback_dial: the customer

  friend bool operator==(const voice_reply& a, const voice_reply& b) {
    return a.to_json() == b.to_json();
  }
  nlohmann::json to_json() const;
  static voice_reply from_json(const nlohmann::json& j);
};

/// The answer to any command.
struct reply {
  int status = 200;       ///< HTTP status
  std::string error;      ///< one-line reason when status >= 400
  bool is_voice = false;  ///< `voice` is the answer, else `body`
  voice_reply voice;
  nlohmann::json body;

  static reply twiml(voice_reply v) {
    reply r;
    r.is_voice = true;
    r.voice = std::move(v);
    return r;
  }
  static reply json(nlohmann::json b, int status = 200) {
    reply r;
    r.status = status;
    r.body = std::move(b);
    return r;
  }
  static reply fail(int status, std::string why) {
    reply r;
    r.status = status;
    r.error = std::move(why);
    return r;
  }
};

inline nlohmann::json voice_reply::to_json() const {
  return {{"kind", static_cast<int>(what)}, {"queue", queue},
          {"greetingName", greeting_name}, {"greet", greet},
          {"offerId", offer_id}, {"identity", identity},
          {"announce", announce}, {"position", position},
          {"waitEstimateSeconds", wait_estimate_seconds},
          {"offerCallback", offer_callback}, {"callbackId", callback_id},
          {"number", number}};
}

inline voice_reply voice_reply::from_json(const nlohmann::json& j) {
  voice_reply v;
  v.what = static_cast<kind>(j.value("kind", 0));
  v.queue = j.value("queue", "");
  v.greeting_name = j.value("greetingName", "");
  v.greet = j.value("greet", false);
  v.offer_id = j.value("offerId", "");
  v.identity = j.value("identity", "");
  v.announce = j.value("announce", false);
  v.position = j.value("position", int64_t{0});
  v.wait_estimate_seconds = j.value("waitEstimateSeconds", int64_t{0});
  v.offer_callback = j.value("offerCallback", false);
  v.callback_id = j.value("callbackId", "");
  v.number = j.value("number", "");
  return v;
}

}  // namespace callq
