#include "replay/erlang.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace callq::replay {

namespace {

/// Erlang C: the birth-death chain is closed form.
erlang_figures erlang_c(const queue_load& load, int64_t n, double threshold_s) {
  erlang_figures f;
  f.agents = n;
  double a = load.arrivals_per_s * load.handle_s;  // offered load, erlangs
  double agents = static_cast<double>(n);
  if (a >= agents) {
    f.wait_probability = 1;
    f.occupancy = 1;
    f.asa_s = INFINITY;
    return f;
  }
  // Erlang B by its recursion, then C from B.
  double b = 1;
  for (int64_t k = 1; k <= n; ++k)
    b = a * b / (static_cast<double>(k) + a * b);
  double c = b / (1 - (a / agents) * (1 - b));
  f.wait_probability = c;
  f.served_within = 1 - c * std::exp(-(agents - a) * threshold_s / load.handle_s);
  f.service_level = f.served_within;
  f.asa_s = c * load.handle_s / (agents - a);
  f.occupancy = a / agents;
  return f;
}

/// Erlang A from the stationary distribution of the number of callers,
/// and, for a caller who arrives with j waiting ahead, the chance of being
/// answered (or giving up) within the threshold, by uniformising the
/// tagged caller's chain: with j ahead it moves up at n*mu + j*theta (an
/// agent frees, or one ahead gives up) and gives up at theta.
erlang_figures erlang_a(const queue_load& load, int64_t n, double threshold_s) {
  erlang_figures f;
  f.agents = n;
  const double lambda = load.arrivals_per_s, mu = 1 / load.handle_s, theta = 1 / load.patience_s;
  const double agents = static_cast<double>(n);
  // p[k] for k callers in the system, grown until the tail is negligible.
  std::vector<double> p{1.0};
  double total = 1;
  for (int64_t k = 1;; ++k) {
    double death = static_cast<double>(std::min(k, n)) * mu + static_cast<double>(std::max<int64_t>(k - n, 0)) * theta;
    double next = p.back() * lambda / death;
    p.push_back(next);
    total += next;
    if (k > n && next < 1e-15 * total)
      break;
    if (next > 1e250) {
      for (double& x : p)
        x /= 1e250;
      total /= 1e250;
    }
  }
  for (double& x : p)
    x /= total;
  double waiting = 0, queue_length = 0;
  for (size_t k = static_cast<size_t>(n); k < p.size(); ++k) {
    waiting += p[k];
    queue_length += static_cast<double>(k - static_cast<size_t>(n)) * p[k];
  }
  f.wait_probability = waiting;
  f.abandon_probability = theta * queue_length / lambda;
  f.asa_s = queue_length / lambda;
  f.occupancy = lambda * (1 - f.abandon_probability) * load.handle_s / agents;

  // served[j], gave_up[j]: within k uniformised steps, from j ahead;
  // weighted by the Poisson(rate * t) chance of k steps.
  size_t ahead = p.size() - static_cast<size_t>(n);
  double rate = agents * mu + static_cast<double>(ahead) * theta + theta;
  double lt = rate * threshold_s;
  std::vector<double> served(ahead, 0), gave_up(ahead, 0), s_sum(ahead, 0), g_sum(ahead, 0);
  auto steps = static_cast<int64_t>(lt + 10 * std::sqrt(lt) + 50);
  // Poisson weights in log space (lt may be large).
  double log_w = -lt;
  for (int64_t k = 0; k <= steps; ++k) {
    if (k > 0) {
      std::vector<double> s2(ahead), g2(ahead);
      for (size_t j = 0; j < ahead; ++j) {
        double advance = agents * mu + static_cast<double>(j) * theta;
        double stay = 1 - (advance + theta) / rate;
        double up_s = j == 0 ? 1.0 : served[j - 1];
        double up_g = j == 0 ? 0.0 : gave_up[j - 1];
        s2[j] = advance / rate * up_s + stay * served[j];
        g2[j] = advance / rate * up_g + theta / rate + stay * gave_up[j];
      }
      served.swap(s2);
      gave_up.swap(g2);
      log_w += std::log(lt) - std::log(static_cast<double>(k));
    }
    double w = std::exp(log_w);
    for (size_t j = 0; j < ahead; ++j) {
      s_sum[j] += w * served[j];
      g_sum[j] += w * gave_up[j];
    }
  }
  double served_within = 0, abandoned_within = 0;
  for (size_t k = 0; k < p.size(); ++k) {
    if (k < static_cast<size_t>(n)) {
      served_within += p[k];
    } else {
      served_within += p[k] * s_sum[k - static_cast<size_t>(n)];
      abandoned_within += p[k] * g_sum[k - static_cast<size_t>(n)];
    }
  }
  f.served_within = std::min(1.0, served_within);
  f.abandoned_within = abandoned_within;
  f.service_level = abandoned_within < 1 ? std::min(1.0, served_within / (1 - abandoned_within)) : 0;
  return f;
}

}  // namespace

erlang_figures erlang(const queue_load& load, int64_t agents, double threshold_s) {
  agents = std::max<int64_t>(agents, 1);
  if (load.arrivals_per_s <= 0) {
    erlang_figures f;
    f.agents = agents;
    f.served_within = f.service_level = 1;
    return f;
  }
  return load.patience_s > 0 ? erlang_a(load, agents, threshold_s) : erlang_c(load, agents, threshold_s);
}

erlang_figures agents_needed(const queue_load& load, double ratio, double threshold_s) {
  if (load.arrivals_per_s <= 0)
    return erlang_figures{};
  auto n = std::max<int64_t>(1, static_cast<int64_t>(std::floor(load.arrivals_per_s * load.handle_s)));
  if (load.patience_s <= 0)
    n = std::max<int64_t>(n, 1);
  erlang_figures f = erlang(load, n, threshold_s);
  while (f.service_level < ratio && n < 10'000)
    f = erlang(load, ++n, threshold_s);
  return f;
}

}  // namespace callq::replay
