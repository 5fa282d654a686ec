// The dispatcher actor: holds the matching index (match_index.hpp), fed
// by the call and agent actors' views, and turns each match into an offer
// through the reservation protocol (see README, "Offers"):
//
//   1. reserve: the agent takes the offer if it is still free, a member
//      of the call's queue and skilled enough (its phone rings,
//      `agent.offer_received`) and holds it as a reservation;
//   2. take_offer: the call takes it if it still waits, in the queue and
//      under the skill requirement it was matched in and under
//      (`call.offered`, REST redirect once durable) -- or refuses;
//   3. confirm (taken) or release (refused) ends the reservation.
//
// Any number of reservations are under way at once, each holding its call
// and agents out of the index until it ends, so matching keeps dispatch
// order exactly (README, "Offers in parallel"); every step has a deadline,
// and the agent ends a reservation it never hears about again by itself.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "actors/dispatcher/queue_config.hpp"
#include "actors/entity_env.hpp"

namespace callq {

/// What the dispatcher starts from besides the entities' views: the
/// stored queue configurations, round-robin's memory, and the seed of the
/// random strategy's draws.
struct dispatcher_start {
  std::map<std::string, queue_config> configs;
  std::map<std::string, std::string> last_offered;
  uint64_t seed = 1;
};

/// Spawns the dispatcher. It matches nothing until `(recovered_atom)`
/// (start-up's recovery done). Besides views it answers `(sweep_atom) -> reply`
/// (a full matching pass, once no more match is possible) and
/// `(barrier_atom) -> bool` (once no reservation is under way and no match
/// is possible: everything the messages before it caused is decided), and
/// `(command_atom, queue_request) -> reply` (a queue's configuration set
/// or removed; its event is sent to the journal before the answer).
caf::actor spawn_dispatcher(caf::actor_system& sys, std::shared_ptr<entity_env> env,
                            dispatcher_start start = {});

}  // namespace callq
