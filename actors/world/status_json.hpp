// The operators' status view as JSON (GET /api/queue/status and `callq
// replay`): one rendering for both; and the callbacks list.
#pragma once

#include <nlohmann/json.hpp>

#include "actors/world/world.hpp"

namespace callq {

/// `{"queues":[...],"agents":[...],"metrics":{...}}` as the contract shows.
nlohmann::json status_to_json(const status_view& v);

/// One callback as `GET /api/callbacks` lists it: `callbackId`, `callSid`,
/// `number`, `queue`, `name`, `state`, `booked`, `createdAt`, `dueAt`
/// (null: at once), `attempts`, `agentId`, `endedAt` (null while live).
nlohmann::json callback_to_json(const callback_view& v);

}  // namespace callq
