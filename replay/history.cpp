#include "replay/history.hpp"

#include <algorithm>
#include <unordered_map>

#include "actors/agent/agent_state.hpp"

namespace callq::replay {

namespace {

using namespace events;

/// What decides whether an agent is present, as the simulation's
/// heartbeats say.
struct presence {
  std::string token_hash, status = "offline", reason;
  bool fresh = true, device = true;
  std::string sent;  ///< the status last given to the simulation
};

class reader {
 public:
  reader(const policy& rules, const report_options& o, history* out)
      : rules_(rules), o_(o), out_(out), start_(rules), builder_(o, rules, &out->actual) {}

  void on(const envelope& e) {
    const event& ev = e.ev;
    if (o_.to_ms == 0 || ev.ts_ms < o_.to_ms) {
      builder_.add(e.stream, ev);  // from the start: who is staffed, who paused
      last_ts_ = std::max(last_ts_, ev.ts_ms);
    }
    if (!started_ && ev.ts_ms < o_.from_ms) {
      start_.apply(e.seq, ev);
      return;
    }
    if (!started_)
      begin();
    bool in_period = o_.to_ms == 0 || ev.ts_ms < o_.to_ms;
    std::visit([&](const auto& x) { handle(x, ev.ts_ms, in_period); }, ev.body);
  }

  void finish() {
    if (!started_)
      begin();
    builder_.finish(o_.to_ms != 0 ? o_.to_ms : last_ts_);
    for (auto& [name, buckets] : out_->actual.queues)
      out_->queues.insert(name);
    if (!pauses_.empty()) {
      std::nth_element(pauses_.begin(), pauses_.begin() + static_cast<long>(pauses_.size() / 2), pauses_.end());
      out_->input.pause_ms = pauses_[pauses_.size() / 2];
    }
  }

 private:
  /// The period begins: the state then, its agents present as they were.
  void begin() {
    started_ = true;
    world_image img = start_.image();
    img.calls.clear();
    img.callbacks.clear();
    img.agents.clear();
    img.state_since.clear();
    out_->input.start = std::move(img);
    out_->input.from_ms = o_.from_ms;
    out_->input.to_ms = o_.to_ms;
    for (auto& [name, c] : start_.queue_configs())
      out_->queues.insert(name);
    for (auto& [id, a] : start_.agents()) {
      if (!a.exists())
        continue;
      action(o_.from_ms, cmd::put_agent{id, a.display_name, a.identity, a.token_hash, a.queues,
                                        a.skills, penalties(a), a.skill_levels});
      presence& p = agents_[id];
      p.token_hash = a.token_hash;
      p.status = status_name(a.status);
      p.reason = a.break_reason;
      p.fresh = !rules_.feature_agent_heartbeat || a.fresh;
      p.device = a.device;
      present(id, o_.from_ms);
    }
  }

  static std::map<std::string, int64_t> penalties(const agent_state& a) {
    std::map<std::string, int64_t> out;
    for (auto& [q, m] : a.members)
      if (m.penalty != 0)
        out[q] = m.penalty;
    return out;
  }

  template <class T> void action(int64_t at, T x) {
    out_->input.actions.push_back({std::max(at, o_.from_ms), std::move(x)});
  }

  /// Gives the simulation the agent's presence when it changed.
  void present(const std::string& id, int64_t at) {
    presence& p = agents_[id];
    bool on = p.fresh && (!rules_.feature_device_connectivity || p.device);
    std::string status = on ? p.status : "offline";
    if (status == p.sent && (status != "break" || p.reason.empty()))
      return;
    p.sent = status;
    action(at, cmd::heartbeat{id, p.token_hash, status, true, status == "break" ? p.reason : ""});
  }

  void handle(const call_arrived& x, int64_t ts, bool in_period) {
    if (!in_period)
      return;
    sim_caller c;
    c.at_ms = ts;
    c.call = cmd::incoming_call{x.call_sid, x.from, x.to, x.queue, x.caller_name, x.priority, x.skills,
                                x.language};
    index_[x.call_sid] = out_->input.callers.size();
    out_->input.callers.push_back(std::move(c));
    out_->queues.insert(x.queue);
  }
  sim_caller* caller(const std::string& sid) {
    auto i = index_.find(sid);
    return i == index_.end() ? nullptr : &out_->input.callers[i->second];
  }
  void handle(const call_enqueued& x, int64_t ts, bool) {
    if (caller(x.call_sid) != nullptr)
      enqueued_.emplace(x.call_sid, ts);
  }
  int64_t waited(const std::string& sid, int64_t ts) const {
    auto i = enqueued_.find(sid);
    return i == enqueued_.end() ? 0 : ts - i->second;
  }
  void handle(const call_connected& x, int64_t ts, bool) {
    if (auto* c = caller(x.call_sid)) {
      c->answered = true;
      c->waited_ms = waited(x.call_sid, ts);
      c->ring_ms = x.ring_ms;
      connected_[x.call_sid] = ts;
    }
  }
  void handle(const call_offered& x, int64_t, bool in_period) {
    if (!in_period || caller(x.call_sid) == nullptr)
      return;
    ++out_->input.ring_outs[x.agent_id].offers;
    ++out_->input.ring_outs[""].offers;
  }
  void handle(const call_offer_failed& x, int64_t, bool) {
    auto* c = caller(x.call_sid);
    if (c == nullptr)
      return;
    if (x.reason == "caller-hangup") {
      c->ring_at_least_ms = std::max(c->ring_at_least_ms, x.ring_ms);
    } else if (x.reason == "no-answer" || x.reason == "busy" || x.reason == "failed" || x.reason == "timeout") {
      for (auto* h : {&out_->input.ring_outs[x.agent_id], &out_->input.ring_outs[""]}) {
        ++h->rang_out;
        h->ring_ms.push_back(x.ring_ms);
      }
    }
  }
  void handle(const call_completed& x, int64_t ts, bool) {
    if (auto* c = caller(x.call_sid); c != nullptr && connected_.count(x.call_sid))
      c->handle_ms = ts - connected_[x.call_sid];
  }
  void handle(const call_abandoned& x, int64_t ts, bool) {
    if (auto* c = caller(x.call_sid); c != nullptr && enqueued_.count(x.call_sid)) {
      c->abandoned = true;
      c->waited_ms = waited(x.call_sid, ts);
    }
  }
  void handle(const callback_requested& x, int64_t ts, bool) {
    // It left the line for a callback: patient at least this long.
    if (auto* c = caller(x.call_sid); c != nullptr && !c->answered)
      c->waited_ms = waited(x.call_sid, ts);
  }

  void handle(const agent_created& x, int64_t ts, bool in_period) {
    if (!in_period)
      return;
    action(ts, cmd::put_agent{x.agent_id, x.display_name, x.client_identity, x.token_hash, x.queues,
                              x.skills, x.penalties, x.skill_levels});
    presence& p = agents_[x.agent_id];
    p = presence{};
    p.token_hash = x.token_hash;
    p.sent = "offline";
    for (auto& q : x.queues)
      out_->queues.insert(q);
  }
  void handle(const agent_updated& x, int64_t ts, bool in_period) {
    if (!in_period)
      return;
    action(ts, cmd::put_agent{x.agent_id, x.display_name, x.client_identity, agents_[x.agent_id].token_hash,
                              x.queues, x.skills, x.penalties, x.skill_levels});
    for (auto& q : x.queues)
      out_->queues.insert(q);
  }
  void handle(const agent_removed& x, int64_t ts, bool in_period) {
    if (!in_period)
      return;
    action(ts, cmd::delete_agent{x.agent_id});
    agents_.erase(x.agent_id);
  }
  void handle(const agent_paused& x, int64_t ts, bool in_period) {
    if (in_period && x.reason == "auto-pause")
      paused_since_[x.agent_id] = ts;
  }
  void handle(const agent_unpaused& x, int64_t ts, bool) {
    if (auto i = paused_since_.find(x.agent_id); i != paused_since_.end()) {
      pauses_.push_back(ts - i->second);
      paused_since_.erase(i);
    }
  }
  void handle(const agent_status_changed& x, int64_t ts, bool in_period) {
    if (!in_period)
      return;
    presence& p = agents_[x.agent_id];
    p.status = x.status;
    p.reason = x.reason;
    p.fresh = true;  // a heartbeat said so
    present(x.agent_id, ts);
  }
  void handle(const agent_device_changed& x, int64_t ts, bool in_period) {
    if (!in_period)
      return;
    agents_[x.agent_id].device = x.registered;
    present(x.agent_id, ts);
  }
  void handle(const agent_heartbeat_expired& x, int64_t ts, bool in_period) {
    if (!in_period || !rules_.feature_agent_heartbeat)
      return;
    agents_[x.agent_id].fresh = false;
    present(x.agent_id, ts);
  }
  void handle(const agent_heartbeat_resumed& x, int64_t ts, bool in_period) {
    if (!in_period)
      return;
    agents_[x.agent_id].fresh = true;
    present(x.agent_id, ts);
  }
  void handle(const system_started&, int64_t ts, bool in_period) {
    if (!in_period || !rules_.feature_agent_heartbeat)
      return;
    for (auto& [id, p] : agents_) {
      p.fresh = false;
      present(id, ts);
    }
  }
  void handle(const queue_configured& x, int64_t ts, bool in_period) {
    if (!in_period)
      return;
    action(ts, cmd::put_queue{x.queue, x.config});
    out_->queues.insert(x.queue);
  }
  void handle(const queue_removed& x, int64_t ts, bool in_period) {
    if (in_period)
      action(ts, cmd::delete_queue{x.queue});
  }
  void handle(const caller_set& x, int64_t ts, bool in_period) {
    if (in_period)
      action(ts, cmd::put_caller{x.number, x.display_name, x.priority, x.language});
  }
  template <class T> void handle(const T&, int64_t, bool) {}

  const policy& rules_;
  const report_options& o_;
  history* out_;
  world start_;
  report_builder builder_;
  bool started_ = false;
  int64_t last_ts_ = 0;
  std::map<std::string, presence> agents_;
  std::unordered_map<std::string, size_t> index_;
  std::unordered_map<std::string, int64_t> enqueued_, connected_;
  std::unordered_map<std::string, int64_t> paused_since_;
  std::vector<int64_t> pauses_;  ///< how long each auto-pause lasted
};

}  // namespace

status read_history(const storage::event_log& log, const policy& rules,
                    const report_options& options, history* out) {
  *out = history{};
  reader r(rules, options, out);
  auto st = log.scan(1, [&](const envelope& e) {
    r.on(e);
    return true;
  });
  if (!st)
    return st;
  r.finish();
  return status::ok();
}

}  // namespace callq::replay
