// One home for "answer this request only once other actors have taken in
// what it caused": a call that told agents about an offer, an agent that
// rescinded the offers of the calls it was ringing for.
#pragma once

#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/replies.hpp"

namespace callq {

/// Sends each `(actor, message)` of `asks` as a request from `self` and
/// answers the request `self` is handling with `answer` once every one has
/// replied or failed (an invalid actor counts as answered). `*pending` is
/// raised by the number outstanding and lowered as they answer, so the
/// actor can keep itself alive meanwhile; `after_each()` runs after each
/// answer (e.g. to let the actor stop). Must be called from a handler.
template <class Self, class Message, class AfterEach>
caf::result<reply> answer_after(Self* self,
                                std::vector<std::pair<caf::actor, Message>> asks, reply answer,
                                size_t* pending, AfterEach after_each) {
  // The promise takes over the request: from here on it is answered
  // through the promise only, never by a returned value.
  auto rp = self->make_response_promise();
  auto left = std::make_shared<size_t>(0);
  auto shared = std::make_shared<reply>(std::move(answer));
  for (auto& [to, msg] : asks) {
    if (!to)
      continue;
    ++*left;
    ++*pending;
    auto done = [rp, left, shared, pending, after_each]() mutable {
      --*pending;
      if (--*left == 0)
        rp.deliver(*shared);
      after_each();
    };
    self->request(to, std::chrono::seconds(10), std::move(msg))
        .then([done](reply&) mutable { done(); }, [done](caf::error&) mutable { done(); });
  }
  if (*left == 0)
    rp.deliver(*shared);
  return rp;
}

}  // namespace callq
