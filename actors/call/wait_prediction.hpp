// How long a waiting caller will still wait: the estimate callq announces
// and its 10th-90th percentile range (README, "Announced waits"). Pure:
// no CAF, no clock, no I/O.
#pragma once

#include <cstdint>

namespace callq {

/// A predicted wait, in seconds.
struct wait_prediction {
  int64_t estimate_seconds = 0;  ///< what "about N minutes" says
  int64_t low_seconds = 0;       ///< 10th percentile
  int64_t high_seconds = 0;      ///< 90th percentile
};

/// The queue-length predictor: a caller at `position` (1-based) waits for
/// `position` departures from the line ahead of it. While all `staffed`
/// agents are busy, departures come at the service rate staffed /
/// `handle_ms` plus, with j callers still ahead, j x `abandon_per_ms`
/// (each waiting caller gives up at that rate; 0 when unknown). The wait
/// is the sum of those exponential stages, its variance widened by
/// model_cv. The estimate is its
/// estimate_quantile and the range its 10th and 90th percentile, from the
/// gamma distribution with the same mean and variance (Wilson-Hilferty).
/// `staffed` below 1 counts as 1.
/// The quantile announced as the estimate: the 40th percentile, not the
/// mean or the median, because it comes closest in relative terms, with
/// the least bias (bench/ewt_bench, bench/README.md: a wait's distribution
/// is skewed, and callers who give up leave the answered ones with the
/// shorter waits).
constexpr double estimate_quantile = 0.4;
/// The model's own uncertainty, as a coefficient of variation of the
/// predicted wait: the handle time and the abandonment rate are measured
/// estimates, so the variance gains (model_cv x mean)^2. Chosen by
/// bench/ewt_bench (bench/README.md): with the handle time a mean over
/// about the last 50 calls (world_metrics::predicted_handle_ms()), 0.05
/// keeps 77-83 % of actual waits in the 10th-90th range in every bucket of
/// callers ahead (0.2 had been needed beside a mean of the last few calls,
/// and gave 84-91 % with this one).
constexpr double model_cv = 0.05;

wait_prediction predict_wait(int64_t position, int64_t staffed, int64_t handle_ms,
                             double abandon_per_ms = 0.0);

/// The estimate callq announced before it measured: position / staffed
/// agents, rounded up, times the handle time (for comparison only).
int64_t naive_wait_seconds(int64_t position, int64_t staffed, int64_t handle_ms);

/// The p-quantile (0 < p < 1) of a gamma distribution of `mean` and
/// `variance` (Wilson-Hilferty's approximation; 0 when the mean is 0).
double gamma_quantile(double mean, double variance, double p);

}  // namespace callq
