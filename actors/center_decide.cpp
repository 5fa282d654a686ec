// The command handlers: each reads the state, emits events (applied at
// once) and says what to answer.
#include <algorithm>

#include "actors/center.hpp"
#include "actors/readiness.hpp"

namespace callq {

using namespace events;

namespace {

bool caller_gone(const std::string& call_status) {
  return call_status == "completed" || call_status == "canceled" ||
         call_status == "failed" || call_status == "busy" ||
         call_status == "no-answer";
}

std::string failure_reason(const std::string& dial_status) {
  if (dial_status == "busy" || dial_status == "no-answer" ||
      dial_status == "failed" || dial_status == "canceled")
    return dial_status;
  return "failed";
}

int64_t seconds_between(int64_t from_ms, int64_t to_ms) {
  return from_ms > 0 && to_ms > from_ms ? (to_ms - from_ms) / 1000 : 0;
}

}  // namespace

center::center(policy rules) : rules_(std::move(rules)) {}
center::~center() = default;

center::result center::handle(const cmd::command& c, int64_t now_ms) {
  result r;
  now_ms_ = now_ms;
  out_ = &r.events;
  fire_timers();
  r.answer = std::visit([this](const auto& x) { return on(x); }, c);
  settle();
  dispatch(false);
  settle();
  out_ = nullptr;
  return r;
}

void center::emit(payload p) {
  event e{now_ms_, std::move(p)};
  apply(e);
  if (out_ != nullptr)
    out_->push_back(std::move(e));
}

const call* center::find_call(const std::string& sid) const {
  auto i = calls_.find(sid);
  return i == calls_.end() ? nullptr : i->second.get();
}

const agent* center::find_agent(const std::string& id) const {
  auto i = agents_.find(id);
  return i == agents_.end() ? nullptr : i->second.get();
}

call* center::call_by_offer(const std::string& offer_id) {
  auto i = offers_.find(offer_id);
  if (i == offers_.end())
    return nullptr;
  auto c = calls_.find(i->second);
  return c == calls_.end() ? nullptr : c->second.get();
}

call* center::call_by_callback(const std::string& callback_id) {
  auto i = callbacks_.find(callback_id);
  if (i == callbacks_.end())
    return nullptr;
  auto c = calls_.find(i->second);
  return c == calls_.end() ? nullptr : c->second.get();
}

voice_reply center::enqueue_reply(const call& c, bool greet) const {
  voice_reply v;
  v.what = voice_reply::kind::enqueue;
  v.queue = c.queue;
  v.greet = greet;
  v.greeting_name = c.caller_name;
  return v;
}

// -------------------------------------------------- shared decisions --

void center::fail_offer(call& c, const std::string& reason) {
  call_offer_failed e;
  e.call_sid = c.sid;
  e.agent_id = c.agent_id;
  e.offer_id = c.offer_id;
  e.reason = reason;
  e.ring_ms = std::max<int64_t>(0, now_ms_ - c.offered_ms);
  emit(std::move(e));
}

void center::abandon(call& c, const std::string& reason) {
  if (c.phase == call_phase::offered)
    fail_offer(c, "caller-hangup");
  call_abandoned e;
  e.call_sid = c.sid;
  e.queue = c.queue;
  e.reason = reason;
  e.position = position_of(c);
  e.orig_position = c.orig_position;
  e.wait_seconds = seconds_between(c.enqueued_ms, now_ms_);
  emit(std::move(e));
}

void center::complete(call& c, const std::string& ended_by, int64_t talk_seconds) {
  std::string agent_id = c.agent_id;
  call_completed e;
  e.call_sid = c.sid;
  e.agent_id = agent_id;
  e.ended_by = ended_by;
  e.hold_seconds = seconds_between(c.enqueued_ms, c.connected_ms);
  e.talk_seconds = talk_seconds > 0 ? talk_seconds : seconds_between(c.connected_ms, now_ms_);
  e.orig_position = c.orig_position;
  emit(std::move(e));
  if (auto i = agents_.find(agent_id); i != agents_.end())
    start_wrap_up(*i->second, c.sid);
}

void center::start_wrap_up(agent& a, const std::string& call_sid) {
  emit(agent_wrap_up_started{a.id, call_sid, now_ms_ + rules_.wrap_up_ms});
  if (rules_.wrap_up_ms <= 0)
    emit(agent_wrap_up_ended{a.id});
}

// ---------------------------------------------------- Twilio: caller --

reply center::on(const cmd::incoming_call& x) {
  if (auto i = calls_.find(x.call_sid); i != calls_.end()) {
    call& c = *i->second;  // a retry: answer what the first request got
    c.last_contact_ms = now_ms_;
    auto a = agents_.find(c.agent_id);
    if (c.phase == call_phase::offered && c.attempts == 1 && a != agents_.end() &&
        !rules_.feature_enhanced_queue) {
      voice_reply v;
      v.what = voice_reply::kind::dial_agent;
      v.offer_id = c.offer_id;
      v.identity = a->second->identity;
      return reply::twiml(v);
    }
    if (is_finished(c.phase))
      return reply::twiml({voice_reply::kind::hangup});
    return reply::twiml(enqueue_reply(c, true));
  }
  caller_entry known;
  if (auto d = directory_.find(x.from); d != directory_.end())
    known = d->second;
  call_arrived arrived;
  arrived.call_sid = x.call_sid;
  arrived.from = x.from;
  arrived.to = x.to;
  arrived.queue = x.queue;
  arrived.caller_name = known.display_name;
  arrived.priority = x.priority ? *x.priority : known.priority;
  emit(arrived);
  call& c = *calls_.at(x.call_sid);
  wait_key k{false, c.priority, now_ms_, c.order, &c};
  int64_t position = static_cast<int64_t>(queues_[c.queue].line.order_of_key(k)) + 1;
  emit(call_enqueued{c.sid, c.queue, c.priority, position});

  if (!rules_.feature_enhanced_queue) {
    // Legacy routing: dial the best ready agent straight away.
    auto& q = queues_[c.queue];
    if (!q.ready.empty()) {
      agent* a = q.ready.begin()->a;
      std::string offer_id = "OF" + std::to_string(offer_counter_ + 1);
      emit(call_offered{c.sid, a->id, offer_id, c.queue, 1, true});
      voice_reply v;
      v.what = voice_reply::kind::dial_agent;
      v.offer_id = offer_id;
      v.identity = a->identity;
      return reply::twiml(v);
    }
  }
  return reply::twiml(enqueue_reply(c, true));
}

reply center::on(const cmd::hold_poll& x) {
  auto i = calls_.find(x.call_sid);
  if (i == calls_.end())
    return reply::fail(400, "unknown call " + x.call_sid);
  call& c = *i->second;
  c.last_contact_ms = now_ms_;
  settle_call(c);  // a wait limit reached now shows in this very answer
  voice_reply v;
  v.what = voice_reply::kind::hold;
  v.position = position_of(c);
  if (c.phase != call_phase::queued && c.phase != call_phase::offered)
    return reply::twiml(v);
  auto q = queues_.find(c.queue);
  int64_t staffed = q == queues_.end() ? 0 : static_cast<int64_t>(q->second.staffed.size());
  int64_t handle_ms = metrics_.avg_handle_ms > 0 ? metrics_.avg_handle_ms : rules_.default_handle_ms;
  v.wait_estimate_seconds = estimated_wait_seconds(v.position, staffed, handle_ms);
  v.announce = rules_.feature_queue_position_updates && c.phase == call_phase::queued &&
               (c.last_announce_ms == 0 ||
                now_ms_ - c.last_announce_ms >= rules_.announce_interval_ms);
  if (v.announce)
    emit(call_announced{c.sid, v.position, v.wait_estimate_seconds});
  v.offer_callback = can_call_back(c) && c.callback_offered;
  return reply::twiml(v);
}

reply center::on(const cmd::callback_response& x) {
  auto i = calls_.find(x.call_sid);
  if (i == calls_.end())
    return reply::fail(400, "unknown call " + x.call_sid);
  call& c = *i->second;
  c.last_contact_ms = now_ms_;
  bool requested_already = c.phase == call_phase::callback_waiting ||
                           c.phase == call_phase::callback_dialing ||
                           c.phase == call_phase::callback_completed;
  if (x.digits == "1" && requested_already)
    return reply::twiml({voice_reply::kind::callback_confirmed});
  if (x.digits != "1" || !rules_.feature_callback_request_system ||
      c.phase != call_phase::queued)
    return reply::twiml({voice_reply::kind::callback_declined});
  if (!can_call_back(c))  // a key pressed anyway by a caller we cannot call
    return reply::twiml({voice_reply::kind::callback_impossible});
  callback_requested e;
  e.call_sid = c.sid;
  e.callback_id = "CB" + std::to_string(callback_counter_ + 1);
  e.number = c.from;
  e.key = x.digits;
  e.queue = c.queue;
  e.position = position_of(c);
  e.orig_position = c.orig_position;
  e.wait_seconds = seconds_between(c.enqueued_ms, now_ms_);
  emit(std::move(e));
  return reply::twiml({voice_reply::kind::callback_confirmed});
}

reply center::on(const cmd::queue_left& x) {
  auto i = calls_.find(x.call_sid);
  if (i == calls_.end())
    return reply::fail(400, "unknown call " + x.call_sid);
  call& c = *i->second;
  c.last_contact_ms = now_ms_;
  bool waiting = c.phase == call_phase::queued || c.phase == call_phase::offered;
  const std::string& r = x.result;
  if (r == "hangup") {
    if (waiting)
      abandon(c, "hangup");
    return reply::twiml({voice_reply::kind::empty});
  }
  if (r == "leave")
    return reply::twiml({voice_reply::kind::goodbye});
  if (r == "queue-full" || r == "error" || r == "system-error") {
    if (waiting)
      abandon(c, r);
    return reply::twiml({voice_reply::kind::unavailable});
  }
  return reply::twiml({voice_reply::kind::empty});  // redirected, bridged, ...
}

reply center::on(const cmd::call_status& x) {
  auto i = calls_.find(x.call_sid);
  if (i == calls_.end() || !caller_gone(x.status))
    return reply::twiml({voice_reply::kind::empty});
  call& c = *i->second;
  if (c.phase == call_phase::queued || c.phase == call_phase::offered)
    abandon(c, "hangup");
  else if (c.phase == call_phase::connected)
    complete(c, "caller", 0);
  return reply::twiml({voice_reply::kind::empty});
}

// ---------------------------------------------------- Twilio: offers --

reply center::on(const cmd::connect_agent& x) {
  call* c = call_by_offer(x.offer_id);
  if (c == nullptr)
    return reply::fail(400, "unknown offer " + x.offer_id);
  c->last_contact_ms = now_ms_;
  if (c->phase == call_phase::offered && c->offer_id == x.offer_id) {
    auto a = agents_.find(c->agent_id);
    if (a != agents_.end()) {
      voice_reply v;
      v.what = voice_reply::kind::dial_agent;
      v.offer_id = x.offer_id;
      v.identity = a->second->identity;
      return reply::twiml(v);
    }
    fail_offer(*c, "agent-removed");
  }
  if (c->phase == call_phase::queued || c->phase == call_phase::offered)
    return reply::twiml(enqueue_reply(*c, false));
  if (is_finished(c->phase))
    return reply::twiml({voice_reply::kind::hangup});
  return reply::twiml({voice_reply::kind::empty});
}

reply center::on(const cmd::agent_leg_status& x) {
  call* c = call_by_offer(x.offer_id);
  if (c == nullptr)
    return reply::fail(400, "unknown offer " + x.offer_id);
  if ((x.call_status == "in-progress" || x.call_status == "answered") &&
      c->phase == call_phase::offered && c->offer_id == x.offer_id)
    emit(call_connected{c->sid, c->agent_id, c->offer_id,
                        seconds_between(c->enqueued_ms, now_ms_),
                        std::max<int64_t>(0, now_ms_ - c->offered_ms)});
  return reply::twiml({voice_reply::kind::empty});
}

reply center::on(const cmd::dial_result& x) {
  call* c = call_by_offer(x.offer_id);
  if (c == nullptr)
    return reply::fail(400, "unknown offer " + x.offer_id);
  c->last_contact_ms = now_ms_;
  bool current = c->offer_id == x.offer_id;
  bool gone = caller_gone(x.call_status);
  if (x.dial_status == "completed" || x.dial_status == "answered") {
    if (current && c->phase == call_phase::offered) {
      int64_t ring = std::max<int64_t>(0, now_ms_ - c->offered_ms - x.duration_seconds * 1000);
      emit(call_connected{c->sid, c->agent_id, c->offer_id,
                          seconds_between(c->enqueued_ms, c->offered_ms + ring), ring});
    }
    if (current && c->phase == call_phase::connected)
      complete(*c, gone ? "caller" : "agent", x.duration_seconds);
    return reply::twiml({voice_reply::kind::hangup});
  }
  if (current && c->phase == call_phase::offered)
    fail_offer(*c, gone ? "caller-hangup" : failure_reason(x.dial_status));
  if (gone && c->phase == call_phase::queued)
    abandon(*c, "hangup");
  if (c->phase == call_phase::queued || c->phase == call_phase::offered)
    return reply::twiml(enqueue_reply(*c, false));
  return reply::twiml({voice_reply::kind::hangup});
}

reply center::on(const cmd::redirect_failed& x) {
  call* c = call_by_offer(x.offer_id);
  if (c != nullptr && c->phase == call_phase::offered && c->offer_id == x.offer_id)
    fail_offer(*c, "redirect-failed");
  return reply::json({{"offerId", x.offer_id}});
}

// ------------------------------------------------- Twilio: callbacks --

reply center::on(const cmd::callback_connect& x) {
  call* c = call_by_callback(x.callback_id);
  if (c == nullptr)
    return reply::fail(400, "unknown callback " + x.callback_id);
  if (c->phase != call_phase::callback_dialing || c->callback_id != x.callback_id)
    return reply::twiml({voice_reply::kind::goodbye});
  if (!c->callback_agent_answered)
    emit(callback_agent_answered{c->sid, c->callback_id, c->agent_id});
  voice_reply v;
  v.what = voice_reply::kind::callback_dial;
  v.callback_id = c->callback_id;
  v.number = c->callback_number;
  return reply::twiml(v);
}

reply center::on(const cmd::callback_result& x) {
  call* c = call_by_callback(x.callback_id);
  if (c == nullptr)
    return reply::fail(400, "unknown callback " + x.callback_id);
  if (c->phase != call_phase::callback_dialing)
    return reply::twiml({voice_reply::kind::hangup});
  std::string agent_id = c->agent_id;
  if (x.dial_status == "completed" || x.dial_status == "answered") {
    emit(callback_completed{c->sid, c->callback_id, agent_id, x.duration_seconds});
    if (auto a = agents_.find(agent_id); a != agents_.end())
      start_wrap_up(*a->second, c->sid);
  } else {
    emit(callback_failed{c->sid, c->callback_id, agent_id,
                         "customer-" + failure_reason(x.dial_status), c->callback_attempts,
                         c->callback_attempts >= rules_.callback_max_attempts});
  }
  return reply::twiml({voice_reply::kind::hangup});
}

reply center::on(const cmd::callback_call_failed& x) {
  call* c = call_by_callback(x.callback_id);
  if (c != nullptr && c->phase == call_phase::callback_dialing && !c->callback_agent_answered)
    emit(callback_failed{c->sid, c->callback_id, c->agent_id, "call-failed",
                         c->callback_attempts,
                         c->callback_attempts >= rules_.callback_max_attempts});
  return reply::json({{"callbackId", x.callback_id}});
}

// ------------------------------------------------------------ agents --

reply center::on(const cmd::heartbeat& x) {
  auto i = agents_.find(x.agent_id);
  if (i == agents_.end())
    return reply::fail(404, "unknown agent " + x.agent_id);
  agent& a = *i->second;
  if (a.token_hash.size() != x.token_hash.size() || a.token_hash != x.token_hash)
    return reply::fail(401, "invalid agent token");
  a.last_heartbeat_ms = now_ms_;
  schedule(now_ms_ + rules_.heartbeat_timeout_ms, 'h', a.id);
  if (!a.fresh)
    emit(agent_heartbeat_resumed{a.id});
  if (x.device_registered && a.device != *x.device_registered)
    emit(agent_device_changed{a.id, *x.device_registered});
  if (a.paused && x.status != "available")
    emit(agent_unpaused{a.id, "agent-status"});
  if (a.status != x.status)
    emit(agent_status_changed{a.id, x.status, a.status});
  settle_agent(a);
  return reply::json({{"agentId", a.id},
                      {"state", agent_state(a)},
                      {"readiness", a.readiness},
                      {"heartbeatIntervalSeconds", rules_.heartbeat_interval_ms / 1000}});
}

reply center::on(const cmd::put_agent& x) {
  if (auto i = agents_.find(x.agent_id); i != agents_.end()) {
    emit(agent_updated{x.agent_id, x.display_name, x.client_identity, x.queues, x.skills});
    return reply::json({{"agentId", x.agent_id}, {"created", false}});
  }
  emit(agent_created{x.agent_id, x.display_name, x.client_identity, x.token_hash,
                     x.queues, x.skills});
  return reply::json({{"agentId", x.agent_id}, {"created", true}}, 201);
}

reply center::on(const cmd::delete_agent& x) {
  auto i = agents_.find(x.agent_id);
  if (i == agents_.end())
    return reply::fail(404, "unknown agent " + x.agent_id);
  agent& a = *i->second;
  if (!a.offer_id.empty()) {
    if (call* c = call_by_offer(a.offer_id); c && c->phase == call_phase::offered)
      fail_offer(*c, "agent-removed");
    else if (call* cb = call_by_callback(a.offer_id); cb && cb->phase == call_phase::callback_dialing)
      emit(callback_failed{cb->sid, cb->callback_id, a.id, "agent-removed",
                           cb->callback_attempts, false});
  }
  if (a.status != "offline")
    emit(agent_status_changed{a.id, "offline", a.status});
  emit(agent_removed{x.agent_id});
  return reply::json({{"agentId", x.agent_id}, {"removed", true}});
}

reply center::on(const cmd::put_caller& x) {
  emit(caller_set{x.number, x.display_name, x.priority});
  return reply::json({{"number", x.number}, {"name", x.display_name}, {"priority", x.priority}});
}

// -------------------------------------------------------- operations --

reply center::on(const cmd::tick&) { return reply::json(nlohmann::json::object()); }

reply center::on(const cmd::sweep&) {
  int64_t matched = dispatch(true);
  int64_t waiting = 0, ready = 0;
  for (auto& [name, q] : queues_) {
    waiting += static_cast<int64_t>(q.dispatchable.size());
    ready += static_cast<int64_t>(q.ready.size());
  }
  return reply::json({{"offered", matched}, {"waiting", waiting}, {"readyAgents", ready}});
}

reply center::on(const cmd::heartbeat_cleanup&) {
  nlohmann::json expired = nlohmann::json::array();
  int64_t checked = 0;
  if (rules_.feature_agent_heartbeat) {
    std::vector<agent*> stale;
    for (auto& [id, a] : agents_) {
      ++checked;
      if (a->fresh && now_ms_ - a->last_heartbeat_ms >= rules_.heartbeat_timeout_ms)
        stale.push_back(a.get());
    }
    std::sort(stale.begin(), stale.end(), [](agent* l, agent* r) { return l->id < r->id; });
    for (agent* a : stale) {
      emit(agent_heartbeat_expired{a->id, "heartbeat-timeout",
                                   a->last_heartbeat_ms > 0 ? (now_ms_ - a->last_heartbeat_ms) / 1000 : 0});
      expired.push_back(a->id);
    }
  }
  return reply::json({{"checked", checked}, {"expired", expired}});
}

reply center::on(const cmd::queue_cleanup&) {
  nlohmann::json orphaned = nlohmann::json::array();
  std::vector<call*> lost;
  for (auto& [sid, c] : calls_)
    if (c->phase == call_phase::queued && now_ms_ - c->last_contact_ms >= rules_.orphan_after_ms)
      lost.push_back(c.get());
  std::sort(lost.begin(), lost.end(), [](call* l, call* r) { return l->order < r->order; });
  for (call* c : lost) {
    abandon(*c, "orphaned");
    orphaned.push_back(c->sid);
  }
  int64_t removed = 0;
  for (auto i = calls_.begin(); i != calls_.end();) {
    call& c = *i->second;
    if (is_finished(c.phase) && now_ms_ - c.ended_ms >= rules_.finished_retention_ms) {
      unindex_call(c);
      i = calls_.erase(i);
      ++removed;
    } else {
      ++i;
    }
  }
  if (removed > 0) {
    for (auto* m : {&offers_, &callbacks_})
      for (auto i = m->begin(); i != m->end();)
        i = calls_.count(i->second) ? std::next(i) : m->erase(i);
  }
  return reply::json({{"removed", removed}, {"orphaned", orphaned}});
}

reply center::on(const cmd::recover& x) {
  emit(system_started{x.version});
  std::vector<call*> open;
  for (auto& [sid, c] : calls_) {
    c->last_contact_ms = now_ms_;
    if (c->phase == call_phase::offered || c->phase == call_phase::callback_dialing)
      open.push_back(c.get());
  }
  std::sort(open.begin(), open.end(), [](call* l, call* r) { return l->order < r->order; });
  for (call* c : open) {
    if (c->phase == call_phase::offered)
      fail_offer(*c, "recovered");
    else
      emit(callback_failed{c->sid, c->callback_id, c->agent_id, "recovered",
                           c->callback_attempts,
                           c->callback_attempts >= rules_.callback_max_attempts});
  }
  return reply::json({{"recoveredOffers", open.size()}});
}

reply center::on(const cmd::record_digest&) {
  std::string d = digest();
  emit(system_state_digest{d});
  return reply::json({{"digest", d}});
}

reply center::on(const cmd::queue_status&) { return reply::json(status_view(now_ms_)); }

}  // namespace callq
