#include "http/admission.hpp"

#include <algorithm>

namespace callq::http {

admission_limits default_admission_limits(int threads) {
  admission_limits l;
  l.threads = std::max(threads, 2);
  int n = l.threads;
  int eighth = std::max(1, n / 8), quarter = std::max(1, n / 4);
  l.reserve = {0, eighth, quarter, quarter};
  l.cap = {n, n, n, quarter};
  l.max_waiting = {10000, 2000, static_cast<size_t>(2 * n), static_cast<size_t>(n)};
  l.max_wait_ms = {10000, 5000, 2000, 2000};
  return l;
}

admission::admission(admission_limits limits) : limits_(limits) {}

bool admission::offer(route_group g, uint64_t job, int64_t now_ms) {
  auto& q = queue_[index(g)];
  if (q.size() >= limits_.max_waiting[index(g)])
    return false;
  q.push_back({job, now_ms});
  return true;
}

bool admission::may_start(size_t g) const {
  return !queue_[g].empty() && busy_total_ < limits_.threads - limits_.reserve[g] &&
         busy_[g] < limits_.cap[g];
}

bool admission::next(admission_ticket* out) {
  for (size_t g = 0; g < route_group_count; ++g) {
    if (!may_start(g))
      continue;
    out->job = queue_[g].front().job;
    out->group = static_cast<route_group>(g);
    queue_[g].pop_front();
    ++busy_[g];
    ++busy_total_;
    return true;
  }
  return false;
}

void admission::finished(route_group g) {
  --busy_[index(g)];
  --busy_total_;
}

std::vector<admission_ticket> admission::expire(int64_t now_ms) {
  std::vector<admission_ticket> out;
  for (size_t g = 0; g < route_group_count; ++g) {
    auto& q = queue_[g];
    while (!q.empty() && now_ms - q.front().since_ms > limits_.max_wait_ms[g]) {
      out.push_back({q.front().job, static_cast<route_group>(g)});
      q.pop_front();
    }
  }
  return out;
}

std::vector<admission_ticket> admission::drain() {
  std::vector<admission_ticket> out;
  for (size_t g = 0; g < route_group_count; ++g) {
    for (auto& e : queue_[g])
      out.push_back({e.job, static_cast<route_group>(g)});
    queue_[g].clear();
  }
  return out;
}

}  // namespace callq::http
