// Erlang C (M/M/n) and Erlang A (M/M/n+M: callers who give up after an
// exponential patience) figures, and the agents a target needs, for
// `callq staffing` (README, "What-if and staffing"). Pure math: rates in
// any one time unit, used consistently.
#pragma once

#include <cstdint>

namespace callq::replay {

/// A queue's load over an interval.
struct queue_load {
  double arrivals_per_s = 0;  ///< callers per second
  double handle_s = 0;        ///< mean handle time, seconds (> 0)
  double patience_s = 0;      ///< mean patience, seconds; 0: callers never give up (Erlang C)
};

/// What a number of agents achieves for a load, in steady state.
struct erlang_figures {
  int64_t agents = 0;
  double wait_probability = 0;  ///< an arriving caller waits at all
  double abandon_probability = 0;  ///< an arriving caller gives up (0 for Erlang C)
  /// Callers answered within the threshold, over all callers (as Erlang C
  /// tables and pyworkforce count it).
  double served_within = 0;
  /// Callers who gave up within the threshold (0 for Erlang C).
  double abandoned_within = 0;
  /// callq's service level: answered within / (all - abandoned within),
  /// as the reports count it.
  double service_level = 0;
  double asa_s = 0;        ///< mean wait over all callers, seconds
  double occupancy = 0;    ///< served load over agents
};

/// The figures for `agents` agents (>= 1) and answering threshold
/// `threshold_s`: Erlang C when load.patience_s is 0 (for a stable load,
/// agents above the offered load; otherwise every caller waits for ever:
/// wait_probability 1, service_level 0), Erlang A otherwise.
erlang_figures erlang(const queue_load& load, int64_t agents, double threshold_s);

/// The fewest agents whose service_level reaches `ratio` for
/// `threshold_s` (at most 10,000); 0 when the load is 0.
erlang_figures agents_needed(const queue_load& load, double ratio, double threshold_s);

}  // namespace callq::replay
