// What the agent page shows its agent (GET /api/agent/me and the agent's
// live stream): its own state and readiness, the call offered to it with
// the caller's name and last calls, the call it talks on, and its
// wrap-up. Read from the world (the read model), so what it shows is on
// disk. Pure: no CAF, no clock, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/world/world.hpp"

namespace callq {

/// `{"agentId","name","state","readiness","status","pauseReason","queues",
/// "pauseReasons","offer","call","wrapUp","heartbeatIntervalSeconds"}` for
/// agent `a` at `now_ms`. `offer` (ringing) and `call` (connected) are
/// null or `{"callSid","from","name","queue","waitSeconds","attempt",
/// "history":[{"at","callSid","queue","agentId","outcome","disposition"}],
/// "screenPopUrl"?}`; `wrapUp` is null or `{"callSid","queue","untilMs",
/// "secondsLeft","dispositions","recorded"}`.
nlohmann::json agent_desk_json(const world& w, const agent_state& a, int64_t now_ms,
                               const std::vector<std::string>& pause_reasons);

}  // namespace callq
