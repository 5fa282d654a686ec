#include "actors/readiness.hpp"

#include <algorithm>

namespace callq {

int64_t readiness_score(const agent& a, const policy& p, int64_t now_ms) {
  bool stale = p.feature_agent_heartbeat && !a.fresh;
  if (a.status == "offline" || stale || a.paused)
    return 0;
  int64_t score = 100;
  if (p.feature_agent_heartbeat && a.last_heartbeat_ms > 0) {
    int64_t age = now_ms - a.last_heartbeat_ms;
    int64_t span = std::max<int64_t>(1, p.heartbeat_timeout_ms - p.heartbeat_interval_ms);
    if (age > p.heartbeat_interval_ms)
      score -= std::min<int64_t>(40, 40 * (age - p.heartbeat_interval_ms) / span);
  }
  if (!a.device)
    score -= 50;
  score -= 20 * std::min<int64_t>(a.missed, 3);
  if (a.idle_since_ms > 0 && now_ms - a.idle_since_ms > 30 * 60'000 &&
      a.on_call.empty() && a.offer_id.empty())
    score -= 10;
  return std::clamp<int64_t>(score, 0, 100);
}

int64_t estimated_wait_seconds(int64_t position, int64_t staffed,
                               int64_t avg_handle_ms) {
  int64_t agents = std::max<int64_t>(1, staffed);
  int64_t rounds = (position + agents - 1) / agents;
  return rounds * avg_handle_ms / 1000;
}

}  // namespace callq
