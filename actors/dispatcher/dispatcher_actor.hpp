// The dispatcher actor: holds the matching index (match_index.hpp), fed
// by the call and agent actors' views, and turns each match into an offer
// through the reservation protocol (see README, "Offers"):
//
//   1. reserve: the agent takes the offer if it is still free (its phone
//      rings, `agent.offer_received`) and holds it as a reservation;
//   2. take_offer: the call takes it if it still waits (`call.offered`,
//      REST redirect once durable) -- or refuses;
//   3. confirm (taken) or release (refused) ends the reservation.
//
// One reservation is under way at a time, so matching keeps dispatch
// order exactly; every step has a deadline, and the agent ends a
// reservation it never hears about again by itself.
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/entity_env.hpp"

namespace callq {

/// Spawns the dispatcher. Besides views it answers `(sweep_atom) -> reply`
/// (a full matching pass, once no more match is possible) and
/// `(barrier_atom) -> bool` (once no reservation is under way and no match
/// is possible: everything the messages before it caused is decided).
caf::actor spawn_dispatcher(caf::actor_system& sys, std::shared_ptr<entity_env> env);

}  // namespace callq
