// The operators' status view as JSON (GET /api/queue/status and `callq
// replay`): one rendering for both.
#pragma once

#include <nlohmann/json.hpp>

#include "replay/world.hpp"

namespace callq::replay {

/// `{"queues":[...],"agents":[...],"metrics":{...}}` as the contract shows.
nlohmann::json status_to_json(const status_view& v);

}  // namespace callq::replay
