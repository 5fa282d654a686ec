// A staffing plan for `callq simulate --staffing FILE` and `callq
// staffing`: how many agents each queue has when, and which skills some
// of them have, turned into the agents' actions of a simulation.
//
// The file (README, "What-if and staffing"):
//   {"support": [{"days": ["mon","tue"], "from": "09:00", "to": "17:00",
//                 "agents": 8, "skills": {"es": 3}}],
//    "timezone": "Europe/Berlin"}
// Times are local to `timezone` (an IANA zone; UTC when absent). Windows
// of a queue that overlap add up. `days` defaults to every day.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "events/status.hpp"
#include "replay/simulation.hpp"

namespace callq::replay {

/// `agents` agents on duty in `queue` over [from_ms, to_ms); of them, the
/// first skills[s] have skill s.
struct duty {
  std::string queue;
  int64_t from_ms = 0, to_ms = 0;
  int64_t agents = 0;
  std::map<std::string, int64_t> skills;
};

/// Parses a staffing file's text into duties over [from_ms, to_ms).
/// invalid_argument, with a reason naming the place, for anything that is
/// not a plan, or a queue not in `known_queues`.
status parse_staffing(const std::string& text, const std::set<std::string>& known_queues,
                      int64_t from_ms, int64_t to_ms, std::vector<duty>* out);

/// The simulation's agent actions for `duties`: agents "<queue>-<n>",
/// members of their queue only, created at `from_ms`, available while on
/// duty and offline otherwise; a skill an agent has on duty is at level 10
/// (so it meets any requirement).
std::vector<sim_action> staffing_actions(const std::vector<duty>& duties, int64_t from_ms);

}  // namespace callq::replay
