#include "actors/agent/agent_state.hpp"

#include "actors/digest_writer.hpp"

#include <algorithm>

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

  /// Memberships as the profile names them: kept (with their counts)
  /// for queues the agent stays in, started now for queues it joins.
  void set_profile(const string_list& queues, const string_list& skills,
                   const level_map& penalties, const level_map& levels) {
    a.queues = queues;
    a.skills = skills;
    std::map<std::string, membership> next;
    for (auto& q : queues) {
      auto old = a.members.find(q);
      membership m = old != a.members.end() ? old->second : membership{0, ts, 0, 0};
      auto p = penalties.find(q);
      m.penalty = p != penalties.end() ? p->second : 0;
      next[q] = m;
    }
    a.members = std::move(next);
    a.skill_levels.clear();
    for (auto& s : skills)
      a.skill_levels[s] = 1;
    for (auto& [s, level] : levels)
      a.skill_levels[s] = level;
  }

  void operator()(const agent_created& e) {
    a = agent_state{};
    a.id = e.agent_id;
    a.display_name = e.display_name;
    a.identity = e.client_identity;
    a.token_hash = e.token_hash;
    set_profile(e.queues, e.skills, e.penalties, e.skill_levels);
    a.idle_since_ms = ts;
  }
  void operator()(const agent_updated& e) {
    a.display_name = e.display_name;
    a.identity = e.client_identity;
    set_profile(e.queues, e.skills, e.penalties, e.skill_levels);
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
    a.break_reason = next == agent_status::on_break ? e.reason : std::string{};
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
    a.offer_queue = e.queue;
  }
  void operator()(const agent_offer_answered& e) {
    a.call_queue = a.offer_id == e.offer_id ? a.offer_queue : std::string{};
    if (a.offer_id == e.offer_id) {
      a.offer_id.clear();
      a.offer_call.clear();
      a.offer_queue.clear();
    }
    a.on_call = e.call_sid;
    a.call_since_ms = ts;
    a.last_call = e.call_sid;
    a.last_call_queue = a.call_queue;
    a.last_call_recorded = false;
    a.missed = 0;
    if (auto m = a.members.find(a.call_queue); m != a.members.end())
      m->second.answered += 1;
  }
  /// The call the agent talked on is over: its talk time counts.
  void end_call() {
    if (auto m = a.members.find(a.call_queue); m != a.members.end())
      m->second.talk_ms += std::max<int64_t>(0, ts - a.call_since_ms);
    a.on_call.clear();
    a.call_queue.clear();
    a.call_since_ms = 0;
  }
  void operator()(const agent_offer_ended& e) {
    if (a.offer_id == e.offer_id) {
      a.offer_id.clear();
      a.offer_call.clear();
      a.offer_queue.clear();
    }
    if (a.on_call == e.call_sid)
      end_call();
    if (e.missed)
      a.missed += 1;
  }
  void operator()(const agent_wrap_up_started& e) {
    if (a.on_call == e.call_sid)
      end_call();
    if (a.offer_call == e.call_sid) {
      a.offer_id.clear();
      a.offer_call.clear();
      a.offer_queue.clear();
    }
    a.in_wrap_up = true;
    a.wrap_until_ms = e.until_ms;
  }
  void operator()(const agent_wrap_up_ended&) {
    a.in_wrap_up = false;
    a.idle_since_ms = ts;
  }
  void operator()(const agent_readiness_changed& e) { a.readiness = e.readiness; }
  void operator()(const agent_wrap_up_recorded& e) {
    if (a.last_call == e.call_sid)
      a.last_call_recorded = true;
  }
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
  return ((eligible_under_checks(a, p) >> agent_checks_of(p)) & 1) != 0;
}

uint8_t agent_checks(bool heartbeat, bool device, bool readiness) {
  return static_cast<uint8_t>((heartbeat ? unsigned{check_heartbeat} : 0u) |
                              (device ? unsigned{check_device} : 0u) |
                              (readiness ? unsigned{check_readiness} : 0u));
}

uint8_t agent_checks_of(const policy& p) {
  return agent_checks(p.feature_agent_heartbeat, p.feature_device_connectivity,
                      p.feature_enhanced_discovery);
}

uint8_t sets_within(uint8_t checks) {
  uint8_t sets = 0;
  for (unsigned k = 0; k < 8; ++k)
    if ((k & ~unsigned{checks}) == 0)
      sets = static_cast<uint8_t>(sets | (1u << k));
  return sets;
}

uint8_t eligible_under_checks(const agent_state& a, const policy& p) {
  if (a.removed || a.status != agent_status::available || a.paused || a.in_wrap_up)
    return 0;
  if (!a.offer_id.empty() || !a.on_call.empty())
    return 0;
  return sets_within(agent_checks(a.fresh, a.device, a.readiness >= p.readiness_threshold));
}

int64_t readiness_score(const agent_state& a, const policy& p, int64_t now_ms) {
  return readiness_score(a, p, now_ms, a.last_heartbeat_ms);
}

int64_t readiness_score(const agent_state& a, const policy& p, int64_t now_ms,
                        int64_t last_heartbeat_ms) {
  bool stale = p.feature_agent_heartbeat && !a.fresh;
  if (a.status == agent_status::offline || stale || a.paused)
    return 0;
  int64_t score = 100;
  if (p.feature_agent_heartbeat && last_heartbeat_ms > 0) {
    int64_t age = now_ms - last_heartbeat_ms;
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
  std::string text;
  text.reserve(256);
  digest_writer o(&text);
  o << "agent " << a.id << '|' << a.version << '|' << a.display_name << '|' << a.identity << '|'
    << a.token_hash << '|';
  for (auto& q : a.queues)
    o << q << ',';
  o << '|';
  for (auto& s : a.skills)
    o << s << ',';
  o << '|';
  for (auto& [q, m] : a.members)
    o << q << ':' << m.penalty << ':' << m.joined_ms << ':' << m.answered << ':' << m.talk_ms << ',';
  o << '|';
  for (auto& [s, level] : a.skill_levels)
    o << s << ':' << level << ',';
  o << '|' << a.offer_queue << '|' << a.call_queue << '|' << a.call_since_ms;
  o << '|' << status_name(a.status) << '|' << a.device << a.fresh << a.expired << a.paused << '|'
    << a.pause_reason << '|' << a.missed << '|' << a.readiness << '|' << a.idle_since_ms << '|'
    << a.in_wrap_up << '|' << a.wrap_until_ms << '|' << a.offer_id << '|' << a.offer_call << '|'
    << a.on_call << '|' << a.logged_in_ms << '|' << a.removed;
  return text;
}

}  // namespace callq
