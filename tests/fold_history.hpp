// Test helper: an entity's history folded one event at a time, for the
// tests of an `apply` (actors/*/..._state_test.cpp).
#pragma once

#include <cstdint>
#include <utility>

#include "events/event.hpp"

namespace callq::testing {

/// `State` as `apply` leaves it after each event given to on(), each
/// event `after_ms` after the one before, from `now`.
template <class State> struct fold_history {
  State state;
  int64_t now = 1'795'608'000'000;

  template <class E> fold_history& on(E e, int64_t after_ms = 1000) {
    now += after_ms;
    apply(state, events::event{now, std::move(e)});
    return *this;
  }
};

}  // namespace callq::testing
