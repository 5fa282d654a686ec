// What-if runs over a period of the log (README, "What-if and staffing"):
// the period's callers replayed under other staffing and/or queue rules
// (`callq simulate`, the reports page's what-if panel), and the agents a
// service level target needs (`callq staffing`). One home for both the
// command line and the HTTP API.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/policy.hpp"
#include "events/status.hpp"
#include "replay/erlang.hpp"
#include "replay/history.hpp"
#include "replay/report.hpp"
#include "replay/staffing_plan.hpp"
#include "storage/event_log.hpp"

namespace callq::replay {

/// What to change.
struct what_if {
  std::string staffing_json;  ///< a staffing file's text; empty: the log's agents
  std::string queues_json;    ///< GET /api/queues's JSON (or its array); empty: the log's rules
  /// Agents per queue and interval start (instead of staffing_json): the
  /// queue's agents while that interval lasts, the last one's kept until
  /// every call has ended. Every agent has every skill the queue's calls
  /// need.
  std::map<std::string, std::map<int64_t, int64_t>> agents_per_interval;
  uint64_t seed = 1;
};

/// The longest period GET /api/reports/simulate takes (a request's
/// thread runs it; the command line has no limit).
constexpr int64_t max_what_if_period_ms = 31LL * 86'400'000;

/// Parses agents per interval, one "QUEUE:N,N,..." spec per queue (GET
/// /api/reports/simulate's `agents`), into w->agents_per_interval: the
/// k-th number is the queue's agents in the k-th interval of `o`'s
/// period (intervals aligned to UTC as the report's), the last one kept
/// to the end. invalid_argument, naming the spec, for anything else (a
/// queue given twice, no numbers, a number outside 0-10000, more numbers
/// than intervals).
status parse_agents_per_interval(const std::vector<std::string>& specs, const report_options& o, what_if* w);

/// A run's result.
struct what_if_result {
  history past;             ///< the period, with its actual report
  queue_report simulated;   ///< the same report over the simulated events
  sim_stats stats;
  double seconds = 0;       ///< the run's wall time (reading the log apart)
  std::string staffing;     ///< "log", "file" or "per-interval"
};

/// Reads the period `o` of `log` and simulates it under `w`.
/// invalid_argument (with a reason) for a bad staffing or queues text, an
/// unknown queue, or a period without calls; the log's error otherwise.
status simulate_period(const storage::event_log& log, const policy& rules, const report_options& o,
                       const what_if& w, what_if_result* out);

/// Simulates an already read period (see simulate_period).
status simulate_history(history past, const policy& rules, const report_options& o, const what_if& w,
                        what_if_result* out);

/// Actual beside simulated: {"from","to","interval","seed","staffing",
/// "run":{"callers","events","seconds","unfinished"}, "queues":[{"queue",
/// "intervals":[{"start","actual":{figures},"simulated":{figures}}],
/// "total":{"actual","simulated"}}]} where figures are offered, answered,
/// abandoned, serviceLevel (null without calls to count), asaSeconds,
/// ahtSeconds, occupancy (null without staffed time).
nlohmann::json what_if_to_json(const what_if_result& r, uint64_t seed);

/// One queue's interval in a staffing answer.
struct staffing_row {
  std::string queue;
  int64_t start = 0;
  int64_t offered = 0;
  double aht_s = 0;         ///< talk time per call, as the report's AHT
  /// The interval's arrival rate, patience and handle time: an agent's
  /// time per call, aht_s + the ring time (the queue's mean) + WRAP_UP_TIME.
  queue_load load;
  erlang_figures needed;    ///< the fewest agents for the target, and their figures
  double simulated_service_level = -1;  ///< with that staffing; -1 nothing to count
  double actual_service_level = -1;     ///< as it was; -1 nothing to count
};

/// Parses "0.8/20" (ratio 0-1, seconds > 0); invalid_argument otherwise.
status parse_target(const std::string& text, double* ratio, int64_t* seconds);

/// For each queue and interval of `past` with calls: the load (arrival
/// rate; the interval's talk time, the queue's over the period when the
/// interval has none, the policy's default when neither has, plus the
/// queue's mean ring time and the policy's wrap-up; the queue's
/// patience over the period, as total time in line over callers who gave
/// up, none when nobody did), the Erlang A (or C) staffing for the target,
/// and the simulated service level with it.
status plan_staffing(const history& past, const policy& rules, const report_options& o, double ratio,
                     int64_t seconds, uint64_t seed, std::vector<staffing_row>* out);

}  // namespace callq::replay
