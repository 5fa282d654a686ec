// Effects a decision asks for besides its events: REST work for the
// Twilio gateway and notices from a call to the agent of its offer. They
// are carried out only once the decision's events are durable (REST) or
// in the order they were decided (notices).
#pragma once

#include <string>

namespace callq {

/// Work for the Twilio gateway: a REST request to make.
struct rest_job {
  enum class kind { redirect_call, create_call } what = kind::redirect_call;
  std::string call_sid;     ///< redirect: the call to redirect
  std::string offer_id;     ///< redirect
  std::string callback_id;  ///< create: the callback
  std::string identity;     ///< create: the agent's client identity
  int64_t callback_attempt = 0;  ///< create: the callback's attempt number
  int attempt = 1;               ///< this request's try (the gateway's retries)
};

/// What a call tells the agent of its offer, so that the agent records its
/// side in its own stream.
struct offer_notice {
  enum class kind {
    answered,  ///< the agent answered: on a call
    ended,     ///< the offer (or the callback attempt) ended without a call
    finished,  ///< the call the agent talked on ended: wrap-up
  } what = kind::ended;
  std::string agent_id, offer_id, call_sid, reason;
  bool missed = false;  ///< counts against the agent (ended only)
};

}  // namespace callq
