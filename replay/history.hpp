// A period of the log as `callq simulate` and `callq staffing` need it:
// the callers who arrived in it with what became of them, what agents and
// operators did, the state when it began, and its actual report.
#pragma once

#include <set>
#include <string>

#include "actors/policy.hpp"
#include "events/status.hpp"
#include "replay/report.hpp"
#include "replay/simulation.hpp"
#include "storage/event_log.hpp"

namespace callq::replay {

/// The period [options.from_ms, options.to_ms) of a log.
struct history {
  sim_input input;
  queue_report actual;          ///< the period's report, with staffed time
  std::set<std::string> queues; ///< every queue a caller, an agent or a configuration names
};

/// Reads `log` once. Agents' actions are their profile changes and their
/// presence, as heartbeats: the status they reported, "offline" while
/// their heartbeat had expired (or their softphone was unregistered, when
/// FEATURE_DEVICE_CONNECTIVITY is on under `rules`). Calls live when the
/// period began are left out; callers who arrived in it are followed to
/// their end, past to_ms.
status read_history(const storage::event_log& log, const policy& rules,
                    const report_options& options, history* out);

}  // namespace callq::replay
