#include "actors/world/call_context.hpp"

namespace callq {

call_context call_context_for(const call_state& call, const call_command& c, int64_t now_ms,
                              const policy& rules, const world& w, id_source& ids) {
  call_context ctx;
  ctx.rules = &rules;
  ctx.now_ms = now_ms;
  // Each reader captures the world by pointer (with at most one more word,
  // the functions keep it in place: no allocation per decision).
  const world* at = &w;
  ctx.position_of = [at](const std::string& queue, const line_key& key) {
    return at->position_of(queue, key);
  };
  const std::string& queue = call.queue;
  if (auto* x = std::get_if<cmd::incoming_call>(&c); x && call.version == 0) {
    ctx.caller = w.caller(x->from);
    ctx.order = ids.next_call_order();
  } else if (auto* b = std::get_if<cmd::schedule_callback>(&c); b && call.version == 0) {
    ctx.caller = w.caller(b->number);
    ctx.order = ids.next_call_order();
  } else if (call.booked && call.phase == call_phase::callback_scheduled) {
    ctx.caller = w.caller(call.from);
  } else if (std::holds_alternative<cmd::hold_poll>(c)) {
    ctx.staffed_agents = w.staffed(queue);
    ctx.avg_handle_ms = w.metrics().predicted_handle_ms();
    ctx.abandon_per_ms = w.metrics().abandon_per_ms();
  }
  bool arriving = std::holds_alternative<cmd::incoming_call>(c) && call.version == 0;
  if (arriving || std::holds_alternative<cmd::callback_response>(c))
    ctx.queue_facts_of = [at](const std::string& q) {
      return queue_facts{at->config_of(q), at->waiting(q), at->staffed(q)};
    };
  ctx.config_of = [at](const std::string& q) { return at->config_of(q); };
  ctx.last_agent_of = [at, now_ms](const std::string& number) {
    return at->last_agent_of(number, now_ms);
  };
  ctx.agent_can_take = [at](const std::string& q, const std::string& agent,
                            const std::map<std::string, int64_t>& require) {
    return at->can_take(q, agent, require);
  };
  ctx.next_callback_id = [&ids] { return ids.next_callback_id(); };
  return ctx;
}

}  // namespace callq
