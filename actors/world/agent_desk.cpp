#include "actors/world/agent_desk.hpp"

#include <algorithm>

#include "events/codec.hpp"

namespace callq {

namespace {

using json = nlohmann::json;

/// The call `sid` as the agent sees it, or null when the read model no
/// longer holds it.
json call_card(const world& w, const std::string& sid, const std::string& offer_id,
               int64_t now_ms) {
  const call_state* c = w.find_call(sid);
  if (c == nullptr)
    return nullptr;
  bool callback = !c->routing().callback_id.empty() && c->routing().callback_id == offer_id;
  const std::string& number = !c->from.empty() ? c->from : c->routing().callback_number;
  std::string name = !c->caller_name.empty() ? c->caller_name : w.caller(number).display_name;
  int64_t since = c->arrived_ms > 0 ? c->arrived_ms : c->enqueued_ms;
  json history = json::array();
  for (auto& h : w.history_of(number))
    history.push_back({{"at", events::format_iso8601(h.at_ms)},
                       {"callSid", h.call_sid},
                       {"queue", h.queue},
                       {"agentId", h.agent_id},
                       {"outcome", h.outcome},
                       {"disposition", h.disposition}});
  json card = {{"callSid", c->sid},
               {"from", number},
               {"name", name},
               {"queue", c->queue},
               {"waitSeconds", since > 0 ? std::max<int64_t>(0, (now_ms - since) / 1000) : 0},
               {"attempt", std::max<int64_t>(1, callback ? c->routing().callback_attempts : c->attempts)},
               {"callback", callback},
               {"history", history}};
  std::string pop = screen_pop_url(w.config_of(c->queue), number, c->sid, c->queue, name);
  if (!pop.empty())
    card["screenPopUrl"] = pop;
  return card;
}

}  // namespace

json agent_desk_json(const world& w, const agent_state& a, int64_t now_ms,
                     const std::vector<std::string>& pause_reasons) {
  json wrap = nullptr;
  if (a.in_wrap_up) {
    const queue_config& q = w.config_of(a.last_call_queue);
    wrap = {{"callSid", a.last_call},
            {"queue", a.last_call_queue},
            {"untilMs", a.wrap_until_ms},
            {"secondsLeft", std::max<int64_t>(0, (a.wrap_until_ms - now_ms + 999) / 1000)},
            {"dispositions", q.dispositions},
            {"recorded", a.last_call_recorded}};
  }
  return {{"agentId", a.id},
          {"name", a.display_name},
          {"clientIdentity", a.identity},
          {"state", visible_state(a, w.rules())},
          {"status", status_name(a.status)},
          {"pauseReason", a.paused ? a.pause_reason : a.break_reason},
          {"readiness", a.readiness},
          {"deviceRegistered", a.device},
          {"queues", a.queues},
          {"pauseReasons", pause_reasons},
          {"heartbeatIntervalSeconds", w.rules().heartbeat_interval_ms / 1000},
          {"offer", a.offer_id.empty() ? json(nullptr) : call_card(w, a.offer_call, a.offer_id, now_ms)},
          {"call", a.on_call.empty() ? json(nullptr) : call_card(w, a.on_call, "", now_ms)},
          {"wrapUp", wrap}};
}

}  // namespace callq
