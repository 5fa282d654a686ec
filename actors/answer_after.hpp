// One home for "answer this request only once what it caused is done":
// durable in this actor's own outbox (answer_when_durable), and, where the
// actor told other actors something (a call that told agents about an
// offer, an agent that rescinded the offers of the calls it was ringing
// for), taken in and made durable by them too (answer_after). This is the
// causal completion of README, "Durability": an answer waits for what its
// own request caused, never for unrelated work to drain.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/outbox.hpp"
#include "actors/replies.hpp"

namespace callq {

/// `answer`, or the refusal that replaces it when an append it depends on
/// was refused.
inline reply durable_answer(reply answer, const std::string& error) {
  if (error.empty())
    return answer;
  return reply::fail(outcome::unavailable, "event log unavailable: " + error +
                                               " (nothing after the last durable event counts; retry)");
}

/// Answers the request `self` is handling with `answer` once every append
/// `box` submitted so far is durable (at once when none is waiting).
template <class Self>
caf::result<reply> answer_when_durable(Self* self, outbox& box, reply answer) {
  if (box.idle())
    return answer;
  auto rp = self->make_response_promise();
  box.when_durable([rp, answer = std::move(answer)](const std::string& error) mutable {
    rp.deliver(durable_answer(std::move(answer), error));  // each waiter runs once
  });
  return rp;
}

/// Sends each `(actor, message)` of `asks` as a request from `self` and
/// answers the request `self` is handling with `answer` once every one has
/// replied or failed (an invalid actor counts as answered) and `box` has
/// made durable what it had submitted by then. `*pending` is raised by the
/// number outstanding and lowered as they answer, so the actor can keep
/// itself alive meanwhile; `after_each()` runs after each answer (e.g. to
/// let the actor stop). Must be called from a handler.
template <class Self, class Message, class AfterEach>
caf::result<reply> answer_after(Self* self, outbox& box,
                                std::vector<std::pair<caf::actor, Message>> asks, reply answer,
                                size_t* pending, AfterEach after_each) {
  // The promise takes over the request: from here on it is answered
  // through the promise only, never by a returned value.
  auto rp = self->make_response_promise();
  auto left = std::make_shared<size_t>(0);
  auto shared = std::make_shared<reply>(std::move(answer));
  auto deliver = [rp, shared, box = &box]() mutable {
    box->when_durable([rp, shared](const std::string& error) mutable {
      rp.deliver(durable_answer(*shared, error));
    });
  };
  for (auto& [to, msg] : asks) {
    if (!to)
      continue;
    ++*left;
    ++*pending;
    auto done = [left, pending, after_each, deliver]() mutable {
      --*pending;
      if (--*left == 0)
        deliver();
      after_each();
    };
    self->request(to, std::chrono::seconds(10), std::move(msg))
        .then([done](reply&) mutable { done(); }, [done](caf::error&) mutable { done(); });
  }
  if (*left == 0)
    deliver();
  return rp;
}

}  // namespace callq
