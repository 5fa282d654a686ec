#include "actors/call/wait_prediction.hpp"

#include <algorithm>
#include <cmath>

namespace callq {

namespace {

/// The standard normal's p-quantile (Acklam's rational approximation,
/// relative error below 1.2e-9).
double normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double low = 0.02425;
  if (p < low) {
    double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low)
    return -normal_quantile(1 - p);
  double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

}  // namespace

double gamma_quantile(double mean, double variance, double p) {
  if (mean <= 0)
    return 0;
  if (variance <= 0)
    return mean;
  double shape = mean * mean / variance, scale = variance / mean;
  double nu = 2 * shape;  // chi-square degrees of freedom
  double t = 1 - 2 / (9 * nu) + normal_quantile(p) * std::sqrt(2 / (9 * nu));
  return std::max(0.0, nu * t * t * t) * scale / 2;
}

wait_prediction predict_wait(int64_t position, int64_t staffed, int64_t handle_ms,
                             double abandon_per_ms) {
  wait_prediction w;
  if (position < 1 || handle_ms <= 0)
    return w;
  double service = static_cast<double>(std::max<int64_t>(1, staffed)) / static_cast<double>(handle_ms);
  double mean = 0, variance = 0;
  for (int64_t ahead = 0; ahead < position; ++ahead) {
    double rate = service + static_cast<double>(ahead) * std::max(0.0, abandon_per_ms);
    mean += 1 / rate;
    variance += 1 / (rate * rate);
  }
  variance += model_cv * model_cv * mean * mean;
  w.estimate_seconds = std::llround(gamma_quantile(mean, variance, estimate_quantile) / 1000);
  w.low_seconds = std::llround(gamma_quantile(mean, variance, 0.1) / 1000);
  w.high_seconds = std::llround(gamma_quantile(mean, variance, 0.9) / 1000);
  return w;
}

int64_t naive_wait_seconds(int64_t position, int64_t staffed, int64_t handle_ms) {
  int64_t agents = std::max<int64_t>(1, staffed);
  return (position + agents - 1) / agents * handle_ms / 1000;
}

}  // namespace callq
