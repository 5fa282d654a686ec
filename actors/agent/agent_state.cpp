#include "actors/agent/agent_state.hpp"

#include <algorithm>
#include <sstream>

namespace callq {

using namespace events;

const char* status_name(agent_status s) {
  switch (s) {
    case agent_status::available: return "available";
    case agent_status::busy: return "busy";
    case agent_status::on_break: return "break";
    case agent_status::offline: return "offline";
  }
  return "offline";
}

bool parse_status(const std::string& text, agent_status* out) {
  for (auto s : {agent_status::available, agent_status::busy, agent_status::on_break,
                 agent_status::offline})
    if (text == status_name(s)) {
      *out = s;
      return true;
    }
  return false;
}

namespace {

struct agent_applier {
  agent_state& a;
  int64_t ts;

  void operator()(const agent_created& e) {
    a = agent_state{};
    a.id = e.agent_id;
    a.display_name = e.display_name;
    a.identity = e.client_identity;
    a.token_hash = e.token_hash;
    a.queues = e.queues;
    a.skills = e.skills;
    a.idle_since_ms = ts;
  }
  void operator()(const agent_updated& e) {
    a.display_name = e.display_name;
    a.identity = e.client_identity;
    a.queues = e.queues;
    a.skills = e.skills;
  }
  void operator()(const agent_removed&) { a.removed = true; }
  void operator()(const agent_status_changed& e) {
    agent_status next = agent_status::offline;
    parse_status(e.status, &next);
    if (a.status == agent_status::offline && next != agent_status::offline)
      a.logged_in_ms = ts;
    if (next == agent_status::available && a.status != agent_status::available)
      a.idle_since_ms = ts;
    a.status = next;
  }
  void operator()(const agent_device_changed& e) { a.device = e.registered; }
  void operator()(const agent_heartbeat_resumed&) {
    a.fresh = true;
    a.expired = false;
  }
  void operator()(const agent_heartbeat_expired&) {
    a.fresh = false;
    a.expired = true;
  }
  void operator()(const agent_paused& e) {
    a.paused = true;
    a.pause_reason = e.reason;
  }
  void operator()(const agent_unpaused&) {
    a.paused = false;
    a.pause_reason.clear();
    a.missed = 0;
  }
  void operator()(const agent_offer_received& e) {
    a.offer_id = e.offer_id;
    a.offer_call = e.call_sid;
  }
  void operator()(const agent_offer_answered& e) {
    if (a.offer_id == e.offer_id) {
      a.offer_id.clear();
      a.offer_call.clear();
    }
    a.on_call = e.call_sid;
    a.missed = 0;
  }
  void operator()(const agent_offer_ended& e) {
    if (a.offer_id == e.offer_id) {
      a.offer_id.clear();
      a.offer_call.clear();
    }
    if (a.on_call == e.call_sid)
      a.on_call.clear();
    if (e.missed)
      a.missed += 1;
  }
  void operator()(const agent_wrap_up_started& e) {
    if (a.on_call == e.call_sid)
      a.on_call.clear();
    if (a.offer_call == e.call_sid) {
      a.offer_id.clear();
      a.offer_call.clear();
    }
    a.in_wrap_up = true;
    a.wrap_until_ms = e.until_ms;
  }
  void operator()(const agent_wrap_up_ended&) {
    a.in_wrap_up = false;
    a.idle_since_ms = ts;
  }
  void operator()(const agent_readiness_changed& e) { a.readiness = e.readiness; }
  template <class Other> void operator()(const Other&) {}  // not an agent event
};

}  // namespace

void apply(agent_state& a, const event& e) {
  uint64_t version = a.version;
  std::visit(agent_applier{a, e.ts_ms}, e.body);
  a.version = version + 1;
}

void apply_restart(agent_state& a) {
  a.fresh = false;
  a.last_heartbeat_ms = 0;
}

std::string visible_state(const agent_state& a, const policy& p) {
  if (a.status == agent_status::offline)
    return "offline";
  // After a restart an agent shows the state the log says (it still gets
  // no offer until it heartbeats: readiness 0); "stale" is an expiry.
  if (p.feature_agent_heartbeat && a.expired)
    return "stale";
  if (!a.on_call.empty())
    return "on-call";
  if (!a.offer_id.empty())
    return "ringing";
  if (a.in_wrap_up)
    return "wrap-up";
  if (a.paused)
    return "break";
  if (p.feature_device_connectivity && !a.device)
    return "unregistered";
  return status_name(a.status);
}

bool is_staffed(const agent_state& a, const policy& p) {
  bool fresh = a.fresh || !p.feature_agent_heartbeat;
  return fresh && !a.paused &&
         (a.status == agent_status::available || a.status == agent_status::busy);
}

bool is_eligible(const agent_state& a, const policy& p) {
  if (a.removed || a.status != agent_status::available || a.paused || a.in_wrap_up)
    return false;
  if (!a.offer_id.empty() || !a.on_call.empty())
    return false;
  if (p.feature_agent_heartbeat && !a.fresh)
    return false;
  if (p.feature_device_connectivity && !a.device)
    return false;
  if (p.feature_enhanced_discovery && a.readiness < p.readiness_threshold)
    return false;
  return true;
}

int64_t readiness_score(const agent_state& a, const policy& p, int64_t now_ms) {
  bool stale = p.feature_agent_heartbeat && !a.fresh;
  if (a.status == agent_status::offline || stale || a.paused)
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
  if (a.idle_since_ms > 0 && now_ms - a.idle_since_ms > 30 * 60'000 && a.on_call.empty() &&
      a.offer_id.empty())
    score -= 10;
  return std::clamp<int64_t>(score, 0, 100);
}

std::string digest_text(const agent_state& a) {
  std::ostringstream o;
  o << "agent " << a.id << '|' << a.version << '|' << a.display_name << '|' << a.identity << '|'
    << a.token_hash << '|';
  for (auto& q : a.queues)
    o << q << ',';
  o << '|';
  for (auto& s : a.skills)
    o << s << ',';
  o << '|' << status_name(a.status) << '|' << a.device << a.fresh << a.expired << a.paused << '|'
    << a.pause_reason << '|' << a.missed << '|' << a.readiness << '|' << a.idle_since_ms << '|'
    << a.in_wrap_up << '|' << a.wrap_until_ms << '|' << a.offer_id << '|' << a.offer_call << '|'
    << a.on_call << '|' << a.logged_in_ms << '|' << a.removed;
  return o.str();
}

}  // namespace callq
