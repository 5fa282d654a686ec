#include "actors/world/status_json.hpp"

#include "events/codec.hpp"

namespace callq {

namespace {

nlohmann::json sl_json(const service_level& s) {
  return {{"answered", s.answered},
          {"answeredWithin", s.answered_within},
          {"abandoned", s.abandoned},
          {"ratio", s.ratio()}};
}

}  // namespace

nlohmann::json status_to_json(const status_view& v) {
  using nlohmann::json;
  json queues = json::array();
  for (auto& q : v.queues) {
    json waiting = json::array();
    for (auto& w : q.waiting)
      waiting.push_back({{"callSid", w.call_sid},
                         {"position", w.position},
                         {"waitSeconds", w.wait_seconds},
                         {"priority", w.priority},
                         {"attempts", w.attempts},
                         {"state", phase_name(w.phase)},
                         {"escalated", w.escalated},
                         {"callbackOffered", w.callback_offered},
                         {"callbackRequested", w.callback_requested},
                         {"requires", w.require},
                         {"preferredAgent", w.preferred_agent}});
    queues.push_back({{"name", q.name},
                      {"config", to_json(q.config)},
                      {"configured", q.configured},
                      {"waiting", waiting},
                      {"waitingCount", q.waiting_count},
                      {"longestWaitSeconds", q.longest_wait_seconds},
                      {"readyAgents", q.ready_agents},
                      {"staffedAgents", q.staffed_agents},
                      {"serviceLevel", {{"today", sl_json(q.today)}, {"last15m", sl_json(q.last_15m)}}}});
  }
  json agents = json::array();
  for (auto& a : v.agents) {
    json age = nullptr, in_state = nullptr;
    if (a.last_heartbeat_age_seconds >= 0)
      age = a.last_heartbeat_age_seconds;
    if (a.state_seconds >= 0)
      in_state = a.state_seconds;
    agents.push_back({{"agentId", a.agent_id},
                      {"name", a.name},
                      {"state", a.state},
                      {"stateSeconds", in_state},
                      {"status", a.status},
                      {"readiness", a.readiness},
                      {"lastHeartbeatAgeSeconds", age},
                      {"deviceRegistered", a.device_registered},
                      {"missedOffers", a.missed_offers},
                      {"pauseReason", a.pause_reason},
                      {"queues", a.queues}});
  }
  const auto& m = v.metrics;
  json metrics = {
      {"calls", m.calls},
      {"answered", m.answered},
      {"answeredWithinServiceLevel", m.answered_in_sl},
      {"serviceLevel", m.answered > 0 ? double(m.answered_in_sl) / double(m.answered) : 1.0},
      {"completed", m.completed},
      {"abandoned", m.abandoned},
      {"escalated", m.escalated},
      {"offersByOutcome", m.offers_by_outcome},
      {"callbacksByOutcome", m.callbacks_by_outcome},
      {"averageHandleSeconds", (m.avg_handle_ms > 0 ? m.avg_handle_ms : v.default_handle_ms) / 1000}};
  return {{"queues", queues}, {"agents", agents}, {"metrics", metrics}};
}

nlohmann::json callback_to_json(const callback_view& v) {
  auto time = [](int64_t ms) {
    return ms > 0 ? nlohmann::json(events::format_iso8601(ms)) : nlohmann::json(nullptr);
  };
  const char* state = callback_state_name(v.phase);
  return {{"callbackId", v.callback_id},
          {"callSid", v.call_sid},
          {"number", v.number},
          {"queue", v.queue},
          {"name", v.name},
          {"state", state != nullptr ? state : phase_name(v.phase)},
          {"booked", v.booked},
          {"createdAt", time(v.created_ms)},
          {"dueAt", time(v.due_ms)},
          {"attempts", v.attempts},
          {"agentId", v.agent_id},
          {"endedAt", time(v.ended_ms)}};
}

}  // namespace callq
