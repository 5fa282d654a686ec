// What a call's decisions read from outside its own stream, taken from a
// world: one builder for the call actor (which reads one version of the
// read model) and for `callq simulate` (which owns its world outright), so
// both decide with the same facts.
#pragma once

#include <cstdint>
#include <string>

#include "actors/call/call_logic.hpp"
#include "actors/ids.hpp"
#include "actors/world/world.hpp"

namespace callq {

/// The context for `call` deciding `c` at `now_ms` under `rules`: every
/// read is of `w` (one version of the read model, or a world the caller
/// owns), the arrival number and callback ids come from `ids`. `w`,
/// `rules` and `ids` must outlive the context.
call_context call_context_for(const call_state& call, const call_command& c, int64_t now_ms,
                              const policy& rules, const world& w, id_source& ids);

}  // namespace callq
