#include "actors/call/wait_prediction.hpp"

#include <cmath>

#include <catch2/catch.hpp>

using namespace callq;

TEST_CASE("wait prediction: the 40th percentile of the stages' sum, percentiles of the matching gamma") {
  // One agent, 3 minutes a call, first in line: an exponential wait,
  // 40th percentile -ln(0.6) x 180 = 92 s.
  auto w = predict_wait(1, 1, 180'000);
  CHECK(w.estimate_seconds == Approx(92).margin(3));
  // Exponential: p10 = -ln(0.9) x 180 = 19 s, p90 = ln(10) x 180 = 414 s;
  // Wilson-Hilferty is within a few percent there.
  CHECK(w.low_seconds == Approx(19).margin(3));
  CHECK(w.high_seconds == Approx(414).margin(15));
  // Five agents share the line: the same position waits a fifth.
  CHECK(predict_wait(1, 5, 180'000).estimate_seconds == Approx(18).margin(1));
  // Position 10 of 5 agents: 10 stages of 36 s, mean 360 s. Erlang(10)
  // alone: 40th percentile, p10 and p90 are 0.90, 0.62 and 1.42 of the
  // mean; the model's own uncertainty (model_cv) widens the range around
  // it: the gamma of variance 10 x 36^2 + (model_cv x 360)^2.
  w = predict_wait(10, 5, 180'000);
  double variance = 10 * 36.0 * 36.0 + model_cv * model_cv * 360.0 * 360.0;
  CHECK(w.estimate_seconds == Approx(gamma_quantile(360, variance, estimate_quantile)).margin(1));
  CHECK(w.low_seconds == Approx(gamma_quantile(360, variance, 0.1)).margin(1));
  CHECK(w.high_seconds == Approx(gamma_quantile(360, variance, 0.9)).margin(1));
  // A wider gamma of the same mean has a lower 40th percentile.
  CHECK(w.estimate_seconds < 0.899 * 360);
  CHECK(w.estimate_seconds > 0.85 * 360);
  double alone = 10 * 36.0 * 36.0;
  CHECK(w.low_seconds < std::lround(gamma_quantile(360, alone, 0.1)));
  CHECK(w.high_seconds > std::lround(gamma_quantile(360, alone, 0.9)));
  // Callers ahead who give up shorten it.
  CHECK(predict_wait(10, 5, 180'000, 1.0 / 120'000).estimate_seconds < w.estimate_seconds);
  // Nothing known: nothing predicted.
  CHECK(predict_wait(0, 1, 180'000).estimate_seconds == 0);
  CHECK(predict_wait(3, 0, 180'000).estimate_seconds == predict_wait(3, 1, 180'000).estimate_seconds);
  CHECK(naive_wait_seconds(1, 5, 180'000) == 180);
  CHECK(naive_wait_seconds(6, 5, 180'000) == 360);
}

TEST_CASE("wait prediction: gamma quantiles against known values") {
  // Gamma(shape 4, scale 1): p10 = 1.745, p50 = 3.672, p90 = 6.681.
  CHECK(gamma_quantile(4, 4, 0.1) == Approx(1.745).epsilon(0.02));
  CHECK(gamma_quantile(4, 4, 0.5) == Approx(3.672).epsilon(0.01));
  CHECK(gamma_quantile(4, 4, 0.9) == Approx(6.681).epsilon(0.01));
  CHECK(gamma_quantile(0, 1, 0.5) == 0);
  CHECK(gamma_quantile(60, 0, 0.9) == 60);  // no spread: every quantile is the mean
}
