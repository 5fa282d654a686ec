// The call actor: one per call, from its arrival (or a restart) until it
// is finished. The only writer of the call's stream `call/<CallSid>`. It
// runs every webhook of its call, its timers, and its side of the offer
// protocol through decide() (call_logic.hpp), appends the events through
// the journal, tells the agent of its offer what became of it, and sends
// its view to the dispatcher.
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/call/call_sid.hpp"
#include "actors/call/call_state.hpp"
#include "actors/entity_env.hpp"

namespace callq {

/// Spawns the actor of call `sid` (the registry's copy) in `state` (empty
/// for a new call). It
/// answers `(command_atom, call_request) -> reply` and `(tick_atom) ->
/// reply`. The reply comes once the decision's appends are durable and the
/// agents it notified have answered, their own appends durable too
/// (answer_after.hpp), so nothing leaves the process before the events it
/// depends on are on disk.
caf::actor spawn_call(caf::actor_system& sys, std::shared_ptr<entity_env> env, call_sid sid,
                      call_state state);

/// Whether a call in phase `p` waits for something that may take long (an
/// agent, its callback, its booked time): such a call is passivated once
/// idle, and a restart starts it passivated unless it has something open.
bool waits_long(call_phase p);

/// Spawns the actor of passivated call `sid` from its durable `state`
/// (shared, not copied) whose timer entry is due at `due`.
caf::actor wake_call(caf::actor_system& sys, std::shared_ptr<entity_env> env, call_sid sid,
                     shared_call_state state, int64_t due);

/// What a command to a finished call (whose actor has stopped) answers:
/// decided on a copy of its final state, appending nothing.
reply answer_finished(call_state final, const call_command& c, const entity_env& env);

}  // namespace callq
