// The agent actor: one per agent, while the agent exists. The only writer
// of the agent's stream `agent/<id>`. Heartbeats go straight to it; it
// takes or refuses the dispatcher's reservations, records what became of
// its offers, and sends its view to the dispatcher whenever it changes.
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/agent/agent_state.hpp"
#include "actors/entity_env.hpp"

namespace callq {

/// Spawns the actor of an agent in `state` (empty for a new agent). It
/// answers `(command_atom, agent_request) -> reply` and `(tick_atom) ->
/// reply`, once its appends are submitted to the journal.
caf::actor spawn_agent(caf::actor_system& sys, std::shared_ptr<entity_env> env,
                       agent_state state);

}  // namespace callq
