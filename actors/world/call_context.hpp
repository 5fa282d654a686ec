// What a call's decisions read from outside its own stream, taken from a
// world: one builder for the call actor (which reads the read model under
// its lock) and for `callq simulate` (which owns its world outright), so
// both decide with the same facts.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "actors/call/call_logic.hpp"
#include "actors/ids.hpp"
#include "actors/world/world.hpp"

namespace callq {

/// Runs its argument with the world (the read model's read(), or a
/// world the caller owns).
using world_reader = std::function<void(const std::function<void(const world&)>&)>;

/// The context for `call` deciding `c` at `now_ms` under `rules`: every
/// read goes through `read`, the arrival number and callback ids come from
/// `ids` (which must outlive the context, as must `rules`).
call_context call_context_for(const call_state& call, const call_command& c, int64_t now_ms,
                              const policy& rules, const world_reader& read, id_source& ids);

}  // namespace callq
