#include "actors/dispatcher/queue_logic.hpp"

#include <nlohmann/json.hpp>

namespace callq {

namespace {

struct decider {
  const std::map<std::string, queue_config>& configured;
  bool in_use;
  int64_t now;

  queue_decision operator()(const cmd::put_queue& x) const {
    queue_config c;
    if (auto st = parse_queue_config(x.config_json, &c); !st)
      return {{}, reply::fail(outcome::invalid, st.message())};
    auto others = configured;
    others.erase(x.queue);
    if (auto loop = overflow_loop(x.queue, c, others); !loop.empty())
      return {{}, reply::fail(outcome::invalid, "overflowQueue makes a loop: " + loop)};
    std::string text = to_json(c).dump();
    bool created = configured.count(x.queue) == 0;
    queue_decision d;
    d.events.push_back({now, events::queue_configured{x.queue, text}});
    d.answer = reply::of(queue_answer{x.queue, text}, created ? outcome::created : outcome::ok);
    return d;
  }

  queue_decision operator()(const cmd::delete_queue& x) const {
    if (configured.count(x.queue) == 0)
      return {{}, reply::fail(outcome::not_found, "queue " + x.queue + " has no configuration")};
    if (in_use)
      return {{}, reply::fail(outcome::conflict, "queue " + x.queue +
                                                     " has waiting calls or member agents")};
    queue_decision d;
    d.events.push_back({now, events::queue_removed{x.queue}});
    d.answer = reply::of(queue_answer{x.queue, ""});
    return d;
  }
};

}  // namespace

queue_decision decide_queue(const std::map<std::string, queue_config>& configured,
                            const queue_command& c, bool in_use, int64_t now_ms) {
  return std::visit(decider{configured, in_use, now_ms}, c);
}

void apply_queue(std::map<std::string, queue_config>& configured, const events::event& e) {
  if (auto* q = std::get_if<events::queue_configured>(&e.body)) {
    queue_config c;
    if (parse_queue_config(q->config, &c))
      configured[q->queue] = std::move(c);
  } else if (auto* r = std::get_if<events::queue_removed>(&e.body)) {
    configured.erase(r->queue);
  }
}

}  // namespace callq
