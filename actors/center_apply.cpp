// The event handler: the only code that changes durable state. It reads no
// clock (times come from the event) and decides nothing.
#include <algorithm>

#include "actors/center.hpp"

namespace callq {

using namespace events;

const char* phase_name(call_phase p) {
  switch (p) {
    case call_phase::arrived: return "arrived";
    case call_phase::queued: return "queued";
    case call_phase::offered: return "offered";
    case call_phase::connected: return "connected";
    case call_phase::completed: return "completed";
    case call_phase::abandoned: return "abandoned";
    case call_phase::callback_waiting: return "callback-waiting";
    case call_phase::callback_dialing: return "callback-dialing";
    case call_phase::callback_completed: return "callback-completed";
    case call_phase::callback_failed: return "callback-failed";
  }
  return "unknown";
}

bool is_finished(call_phase p) {
  return p == call_phase::completed || p == call_phase::abandoned ||
         p == call_phase::callback_completed || p == call_phase::callback_failed;
}

// ----------------------------------------------------------- indexes --

void center::mark_dirty_queue(const std::string& q) {
  if (out_ != nullptr)  // replay leaves follow-up work to recovery
    dirty_queues_.insert(q);
}

void center::index_call(call& c) {
  auto& q = queues_[c.queue];
  bool want_line = c.phase == call_phase::queued || c.phase == call_phase::offered ||
                   c.phase == call_phase::callback_waiting;
  bool want_dispatch = c.phase == call_phase::queued || c.phase == call_phase::callback_waiting;
  if (want_line && !c.in_line) {
    q.line.insert(c.key());
    c.in_line = true;
  }
  if (want_dispatch && !c.dispatchable) {
    q.dispatchable.insert(c.key());
    c.dispatchable = true;
    mark_dirty_queue(c.queue);
  }
  if (!want_dispatch && c.dispatchable) {
    q.dispatchable.erase(c.key());
    c.dispatchable = false;
  }
  if (!want_line && c.in_line) {
    q.line.erase(c.key());
    c.in_line = false;
  }
}

void center::unindex_call(call& c) {
  auto i = queues_.find(c.queue);
  if (i == queues_.end())
    return;
  if (c.in_line)
    i->second.line.erase(c.key());
  if (c.dispatchable)
    i->second.dispatchable.erase(c.key());
  c.in_line = c.dispatchable = false;
}

bool center::staffing(const agent& a) const {
  bool fresh = a.fresh || !rules_.feature_agent_heartbeat;
  return fresh && !a.paused && (a.status == "available" || a.status == "busy");
}

bool center::eligible(const agent& a) const {
  if (a.status != "available" || a.paused || a.in_wrap_up)
    return false;
  if (!a.offer_id.empty() || !a.on_call.empty())
    return false;
  if (rules_.feature_agent_heartbeat && !a.fresh)
    return false;
  if (rules_.feature_device_connectivity && !a.device)
    return false;
  if (rules_.feature_enhanced_discovery && a.readiness < rules_.readiness_threshold)
    return false;
  return true;
}

void center::unindex_agent(agent& a) {
  for (auto& qn : a.queues) {
    auto i = queues_.find(qn);
    if (i == queues_.end())
      continue;
    if (a.indexed)
      i->second.ready.erase(a.key_in_index);
    i->second.staffed.erase(a.id);
  }
  a.indexed = false;
}

void center::reindex_agent(agent& a) {
  unindex_agent(a);
  bool staffed = staffing(a);
  bool ready = eligible(a);
  a.key_in_index = agent_key{rules_.feature_enhanced_discovery ? a.readiness : 0,
                             a.idle_since_ms, &a};
  for (auto& qn : a.queues) {
    auto& q = queues_[qn];
    if (staffed)
      q.staffed.insert(a.id);
    if (ready) {
      q.ready.insert(a.key_in_index);
      mark_dirty_queue(qn);
    }
  }
  a.indexed = ready;
  if (out_ != nullptr)
    dirty_agents_.insert(a.id);
}

void center::release_agent_offer(const std::string& agent_id, const std::string& offer_id) {
  auto i = agents_.find(agent_id);
  if (i == agents_.end())
    return;
  agent& a = *i->second;
  if (a.offer_id == offer_id) {
    a.offer_id.clear();
    a.offer_call.clear();
    reindex_agent(a);
  }
}

// ------------------------------------------------------------- events --

struct center::applier {
  center& s;
  int64_t ts;

  call* find(const std::string& sid) {
    auto i = s.calls_.find(sid);
    return i == s.calls_.end() ? nullptr : i->second.get();
  }
  agent* find_agent(const std::string& id) {
    auto i = s.agents_.find(id);
    return i == s.agents_.end() ? nullptr : i->second.get();
  }
  /// The agent answered `call_sid`: no longer ringing, now on that call.
  void agent_answered(const std::string& agent_id, const std::string& call_sid) {
    if (agent* a = find_agent(agent_id)) {
      a->offer_id.clear();
      a->offer_call.clear();
      a->on_call = call_sid;
      a->missed = 0;
      s.reindex_agent(*a);
    }
  }
  /// `call_sid` (or its offer `offer_id`) no longer holds the agent.
  void agent_freed(agent& a, const std::string& call_sid, const std::string& offer_id) {
    if (a.on_call == call_sid)
      a.on_call.clear();
    s.release_agent_offer(a.id, offer_id);
    s.reindex_agent(a);
  }
  void touch(call& c) {
    if (s.out_ != nullptr)
      s.dirty_calls_.insert(c.sid);
  }

  void operator()(const call_arrived& e) {
    auto& slot = s.calls_[e.call_sid];
    if (!slot)
      slot = std::make_unique<call>();
    call& c = *slot;
    c.sid = e.call_sid;
    c.from = e.from;
    c.to = e.to;
    c.queue = e.queue;
    c.caller_name = e.caller_name;
    c.priority = e.priority;
    c.order = ++s.call_counter_;
    c.arrived_ms = ts;
    c.last_contact_ms = ts;
    ++s.metrics_.calls;
  }
  void operator()(const call_enqueued& e) {
    call* c = find(e.call_sid);
    if (!c)
      return;
    s.unindex_call(*c);
    c->queue = e.queue;
    c->priority = e.priority;
    c->enqueued_ms = ts;
    c->orig_position = e.position;
    c->phase = call_phase::queued;
    s.index_call(*c);
    s.schedule(ts + s.rules_.max_queue_wait_ms, 'w', c->sid);
    touch(*c);
  }
  void operator()(const call_announced& e) {
    if (call* c = find(e.call_sid))
      c->last_announce_ms = ts;
  }
  void operator()(const call_offered& e) {
    call* c = find(e.call_sid);
    if (!c)
      return;
    c->phase = call_phase::offered;
    c->offer_id = e.offer_id;
    c->agent_id = e.agent_id;
    c->offered_ms = ts;
    c->attempts = e.attempt;
    s.index_call(*c);
    s.offers_[e.offer_id] = e.call_sid;
    ++s.offer_counter_;
    if (agent* a = find_agent(e.agent_id)) {
      a->offer_id = e.offer_id;
      a->offer_call = e.call_sid;
      s.reindex_agent(*a);
    }
    s.schedule(ts + s.rules_.offer_timeout_ms + s.rules_.offer_grace_ms, 'o', c->sid);
  }
  void operator()(const call_offer_failed& e) {
    call* c = find(e.call_sid);
    if (c && c->phase == call_phase::offered && c->offer_id == e.offer_id) {
      c->phase = call_phase::queued;
      c->failed_in_row += 1;
      c->last_failed_ms = ts;
      c->tried.push_back(e.agent_id);
      s.index_call(*c);
      if (c->failed_in_row >= s.rules_.max_offer_attempts)
        s.schedule(ts + s.rules_.announce_interval_ms, 'r', c->sid);
      touch(*c);
    }
    ++s.metrics_.offers_by_outcome[e.reason];
    if (agent* a = find_agent(e.agent_id)) {
      if (e.reason == "no-answer" || e.reason == "busy" || e.reason == "failed" ||
          e.reason == "timeout")
        a->missed += 1;
      s.release_agent_offer(a->id, e.offer_id);
    }
  }
  void operator()(const call_connected& e) {
    call* c = find(e.call_sid);
    if (!c)
      return;
    c->phase = call_phase::connected;
    c->connected_ms = ts;
    c->ring_ms = e.ring_ms;
    c->failed_in_row = 0;
    s.index_call(*c);
    ++s.metrics_.answered;
    ++s.metrics_.offers_by_outcome["connected"];
    if (e.hold_seconds * 1000 <= s.rules_.service_level_ms)
      ++s.metrics_.answered_in_sl;
    agent_answered(e.agent_id, e.call_sid);
  }
  void operator()(const call_completed& e) {
    call* c = find(e.call_sid);
    if (c) {
      c->phase = call_phase::completed;
      c->ended_ms = ts;
      s.index_call(*c);
    }
    ++s.metrics_.completed;
    auto& avg = s.metrics_.avg_handle_ms;
    int64_t talk = e.talk_seconds * 1000;
    avg = avg == 0 ? talk : (avg * 4 + talk) / 5;
    if (agent* a = find_agent(e.agent_id))
      agent_freed(*a, e.call_sid, {});
  }
  void operator()(const call_abandoned& e) {
    ++s.metrics_.abandoned;
    call* c = find(e.call_sid);
    if (!c)
      return;
    c->phase = call_phase::abandoned;
    c->ended_ms = ts;
    s.index_call(*c);
  }
  void operator()(const call_escalated& e) {
    call* c = find(e.call_sid);
    if (!c)
      return;
    ++s.metrics_.escalated;
    s.unindex_call(*c);
    c->escalated = true;
    s.index_call(*c);
  }
  void operator()(const callback_offered& e) {
    if (call* c = find(e.call_sid))
      c->callback_offered = true;
  }
  void operator()(const callback_requested& e) {
    call* c = find(e.call_sid);
    if (!c)
      return;
    c->phase = call_phase::callback_waiting;
    c->callback_id = e.callback_id;
    c->callback_number = e.number;
    c->callback_requested_ms = ts;
    c->tried.clear();
    s.callbacks_[e.callback_id] = e.call_sid;
    ++s.callback_counter_;
    ++s.metrics_.callbacks_by_outcome["requested"];
    s.index_call(*c);
    s.mark_dirty_queue(c->queue);  // now offered agent first, to anyone
    s.schedule(ts + s.rules_.callback_sla_ms, 's', c->sid);
    touch(*c);
  }
  void operator()(const callback_started& e) {
    call* c = find(e.call_sid);
    if (!c)
      return;
    c->phase = call_phase::callback_dialing;
    c->callback_attempts = e.attempt;
    c->callback_agent_answered = false;
    c->agent_id = e.agent_id;
    c->offered_ms = ts;
    s.index_call(*c);
    if (agent* a = find_agent(e.agent_id)) {
      a->offer_id = e.callback_id;
      a->offer_call = e.call_sid;
      s.reindex_agent(*a);
    }
    s.schedule(ts + s.rules_.callback_ring_ms, 'c', c->sid);
  }
  void operator()(const callback_agent_answered& e) {
    call* c = find(e.call_sid);
    if (!c)
      return;
    c->callback_agent_answered = true;
    agent_answered(e.agent_id, e.call_sid);
  }
  void operator()(const callback_completed& e) {
    ++s.metrics_.callbacks_by_outcome["completed"];
    call* c = find(e.call_sid);
    if (c) {
      c->phase = call_phase::callback_completed;
      c->ended_ms = ts;
    }
    if (agent* a = find_agent(e.agent_id))
      agent_freed(*a, e.call_sid, e.callback_id);
  }
  void operator()(const callback_failed& e) {
    ++s.metrics_.callbacks_by_outcome[e.final ? "failed" : "retry"];
    call* c = find(e.call_sid);
    if (c && c->phase == call_phase::callback_dialing) {
      c->phase = e.final ? call_phase::callback_failed : call_phase::callback_waiting;
      if (e.final)
        c->ended_ms = ts;
      else
        c->tried.push_back(e.agent_id);
      s.index_call(*c);
      touch(*c);
    }
    if (agent* a = find_agent(e.agent_id)) {
      if (e.reason == "agent-no-answer")
        a->missed += 1;
      agent_freed(*a, e.call_sid, e.callback_id);
    }
  }
  void operator()(const callback_escalated& e) {
    call* c = find(e.call_sid);
    if (!c)
      return;
    s.unindex_call(*c);
    c->callback_escalated = true;
    c->escalated = true;
    s.index_call(*c);
  }
  void operator()(const agent_created& e) {
    auto& slot = s.agents_[e.agent_id];
    if (slot)
      s.unindex_agent(*slot);
    slot = std::make_unique<agent>();
    agent& a = *slot;
    a.id = e.agent_id;
    a.display_name = e.display_name;
    a.identity = e.client_identity;
    a.token_hash = e.token_hash;
    a.queues = e.queues;
    a.skills = e.skills;
    a.idle_since_ms = ts;
    s.reindex_agent(a);
  }
  void operator()(const agent_updated& e) {
    agent* a = find_agent(e.agent_id);
    if (!a)
      return;
    s.unindex_agent(*a);
    a->display_name = e.display_name;
    a->identity = e.client_identity;
    a->queues = e.queues;
    a->skills = e.skills;
    s.reindex_agent(*a);
  }
  void operator()(const agent_removed& e) {
    agent* a = find_agent(e.agent_id);
    if (!a)
      return;
    s.unindex_agent(*a);
    s.dirty_agents_.erase(a->id);
    s.agents_.erase(e.agent_id);
  }
  void operator()(const agent_status_changed& e) {
    agent* a = find_agent(e.agent_id);
    if (!a)
      return;
    if (a->status == "offline" && e.status != "offline")
      a->logged_in_ms = ts;
    if (e.status == "available" && a->status != "available")
      a->idle_since_ms = ts;
    a->status = e.status;
    s.reindex_agent(*a);
  }
  void operator()(const agent_device_changed& e) {
    if (agent* a = find_agent(e.agent_id)) {
      a->device = e.registered;
      s.reindex_agent(*a);
    }
  }
  void operator()(const agent_heartbeat_resumed& e) {
    if (agent* a = find_agent(e.agent_id)) {
      a->fresh = true;
      a->expired = false;
      s.reindex_agent(*a);
    }
  }
  void operator()(const agent_heartbeat_expired& e) {
    if (agent* a = find_agent(e.agent_id)) {
      a->fresh = false;
      a->expired = true;
      s.reindex_agent(*a);
    }
  }
  void operator()(const agent_paused& e) {
    if (agent* a = find_agent(e.agent_id)) {
      a->paused = true;
      a->pause_reason = e.reason;
      s.reindex_agent(*a);
    }
  }
  void operator()(const agent_unpaused& e) {
    if (agent* a = find_agent(e.agent_id)) {
      a->paused = false;
      a->pause_reason.clear();
      a->missed = 0;
      s.reindex_agent(*a);
    }
  }
  void operator()(const agent_wrap_up_started& e) {
    if (agent* a = find_agent(e.agent_id)) {
      a->in_wrap_up = true;
      a->wrap_until_ms = e.until_ms;
      s.reindex_agent(*a);
      s.schedule(e.until_ms, 'u', a->id);
    }
  }
  void operator()(const agent_wrap_up_ended& e) {
    if (agent* a = find_agent(e.agent_id)) {
      a->in_wrap_up = false;
      a->idle_since_ms = ts;
      s.reindex_agent(*a);
    }
  }
  void operator()(const agent_readiness_changed& e) {
    if (agent* a = find_agent(e.agent_id)) {
      a->readiness = e.readiness;
      s.reindex_agent(*a);
    }
  }
  void operator()(const caller_set& e) {
    s.directory_[e.number] = caller_entry{e.display_name, e.priority};
  }
  void operator()(const system_started&) {
    for (auto& [id, a] : s.agents_) {
      a->fresh = false;
      a->last_heartbeat_ms = 0;
      s.reindex_agent(*a);
    }
  }
  void operator()(const system_state_digest&) {}
};

void center::apply(const event& e) {
  std::visit(applier{*this, e.ts_ms}, e.body);
}

}  // namespace callq
