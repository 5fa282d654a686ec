// The reservation protocol's commands for one match (dispatcher_actor.hpp),
// made in one place for the dispatcher actor and `callq simulate`'s engine,
// which runs the same protocol in virtual time.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "actors/commands.hpp"
#include "actors/dispatcher/match_index.hpp"

namespace callq {

/// The agents `m` rings, (agent id, client identity): the chosen one
/// first, then a ring-all's others.
inline std::vector<std::pair<std::string, std::string>> legs_of(const match& m) {
  std::vector<std::pair<std::string, std::string>> legs{{m.agent_id, m.identity}};
  legs.insert(legs.end(), m.also.begin(), m.also.end());
  return legs;
}

/// What each leg of `m` is asked: reservation `reservation` of offer
/// `offer_id`, under agent-side checks `checks` (-1: the server's own) and
/// the call's requirement as matched.
inline cmd::reserve reserve_of(const match& m, uint64_t reservation, const std::string& offer_id,
                               int checks) {
  return cmd::reserve{reservation, offer_id, m.call_sid, m.queue, checks, m.require};
}

/// What the call of `m` is asked once its legs have answered: to take
/// offer `offer_id` to `legs[reserved[0]]` (with the others that reserved,
/// in order) by `take_by_ms`, in the queue and under the requirement it
/// was matched in and under.
/// `reserved` is not empty.
inline cmd::take_offer take_offer_of(const match& m, const std::string& offer_id,
                                     const std::vector<std::pair<std::string, std::string>>& legs,
                                     const std::vector<size_t>& reserved, bool direct,
                                     int64_t take_by_ms) {
  cmd::take_offer take{offer_id, legs[reserved[0]].first, legs[reserved[0]].second, m.queue, direct};
  take.take_by_ms = take_by_ms;
  take.require = m.require;
  for (size_t k = 1; k < reserved.size(); ++k)
    take.also.push_back(legs[reserved[k]]);
  return take;
}

}  // namespace callq
