// Test helper: how many events of one type a decision returned.
#pragma once

#include <variant>
#include <vector>

#include "events/event.hpp"

namespace callq::testing {

/// The number of events in `evs` whose body is a `T`.
template <class T> int count_of(const std::vector<events::event>& evs) {
  int n = 0;
  for (auto& e : evs)
    n += std::holds_alternative<T>(e.body);
  return n;
}

}  // namespace callq::testing
