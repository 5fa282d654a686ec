#include "actors/world/call_context.hpp"

namespace callq {

namespace {

/// `f(world)`'s result, read through `read`.
template <class F> auto read_value(const world_reader& read, F&& f) {
  decltype(f(std::declval<const world&>())) out{};
  read([&](const world& w) { out = f(w); });
  return out;
}

}  // namespace

call_context call_context_for(const call_state& call, const call_command& c, int64_t now_ms,
                              const policy& rules, const world_reader& read, id_source& ids) {
  call_context ctx;
  ctx.rules = &rules;
  ctx.now_ms = now_ms;
  ctx.position_of = [read](const std::string& queue, const line_key& key) {
    return read_value(read, [&](const world& w) { return w.position_of(queue, key); });
  };
  const std::string& queue = call.queue;
  if (auto* x = std::get_if<cmd::incoming_call>(&c); x && call.version == 0) {
    ctx.caller = read_value(read, [&](const world& w) { return w.caller(x->from); });
    ctx.order = ids.next_call_order();
  } else if (auto* b = std::get_if<cmd::schedule_callback>(&c); b && call.version == 0) {
    ctx.caller = read_value(read, [&](const world& w) { return w.caller(b->number); });
    ctx.order = ids.next_call_order();
  } else if (call.booked && call.phase == call_phase::callback_scheduled) {
    ctx.caller = read_value(read, [&](const world& w) { return w.caller(call.from); });
  } else if (std::holds_alternative<cmd::hold_poll>(c)) {
    read([&](const world& w) {
      ctx.staffed_agents = w.staffed(queue);
      ctx.avg_handle_ms = w.metrics().predicted_handle_ms();
      ctx.abandon_per_ms = w.metrics().abandon_per_ms();
    });
  }
  bool arriving = std::holds_alternative<cmd::incoming_call>(c) && call.version == 0;
  if (arriving || std::holds_alternative<cmd::callback_response>(c))
    ctx.queue_facts_of = [read](const std::string& q) {
      return read_value(read, [&](const world& w) {
        return queue_facts{w.config_of(q), w.waiting(q), w.staffed(q)};
      });
    };
  ctx.config_of = [read](const std::string& q) {
    return read_value(read, [&](const world& w) { return w.config_of(q); });
  };
  ctx.last_agent_of = [read, now_ms](const std::string& number) {
    return read_value(read, [&](const world& w) { return w.last_agent_of(number, now_ms); });
  };
  ctx.agent_can_take = [read](const std::string& q, const std::string& agent,
                              const std::map<std::string, int64_t>& require) {
    return read_value(read, [&](const world& w) { return w.can_take(q, agent, require); });
  };
  ctx.next_callback_id = [&ids] { return ids.next_callback_id(); };
  return ctx;
}

}  // namespace callq
