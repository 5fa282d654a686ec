#include "actors/call/call_state.hpp"

#include "actors/digest_writer.hpp"
#include "actors/feature_flags.hpp"

#include <atomic>
#include <type_traits>

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
    case call_phase::refused: return "refused";
    case call_phase::deciding_callback: return "deciding-callback";
    case call_phase::callback_scheduled: return "callback-scheduled";
    case call_phase::callback_canceled: return "callback-canceled";
  }
  return "unknown";
}

const char* callback_state_name(call_phase p) {
  switch (p) {
    case call_phase::callback_scheduled: return "scheduled";
    case call_phase::callback_waiting: return "waiting";
    case call_phase::callback_dialing: return "started";
    case call_phase::callback_completed: return "completed";
    case call_phase::callback_failed: return "failed";
    case call_phase::callback_canceled: return "canceled";
    default: return nullptr;
  }
}

bool is_finished(call_phase p) {
  return p == call_phase::completed || p == call_phase::abandoned ||
         p == call_phase::callback_completed || p == call_phase::callback_failed ||
         p == call_phase::refused || p == call_phase::callback_canceled;
}

bool parse_callback_state(const std::string& text, call_phase* out) {
  for (call_phase p : {call_phase::callback_scheduled, call_phase::callback_waiting,
                       call_phase::callback_dialing, call_phase::callback_completed,
                       call_phase::callback_failed, call_phase::callback_canceled})
    if (text == callback_state_name(p)) {
      *out = p;
      return true;
    }
  return false;
}

namespace {

struct call_applier {
  call_state& c;
  int64_t ts;

  /// The first event of a call's stream: who, where, in which order.
  void open(const std::string& sid, const std::string& from, const std::string& queue,
            const std::string& name, int64_t priority, int64_t order) {
    c.sid = sid;
    c.from = from;
    c.queue = queue;
    c.caller_name = name;
    c.priority = priority;
    c.order = static_cast<uint64_t>(order);
    c.arrived_ms = ts;
    c.last_contact_ms = ts;
  }
  void operator()(const call_arrived& e) {
    open(e.call_sid, e.from, e.queue, e.caller_name, e.priority, e.order);
    c.to = e.to;
    if (!e.skills.empty())
      c.edit_routing().skills = e.skills;
    c.language = e.language;
    c.flags.bits = flag_bits(e.flags);
  }
  void operator()(const call_enqueued& e) {
    c.queue = e.queue;
    c.priority = e.priority;
    c.enqueued_ms = ts;
    c.orig_position = e.position;
    c.phase = call_phase::queued;
  }
  void operator()(const call_requirements_set& e) {
    c.require_step = e.step;
    c.require = e.require;
    c.require_next_ms = e.next_step_ms;
  }
  void operator()(const call_overflowed& e) {
    c.queue = e.to_queue;
    c.overflowed_ms = ts;
    c.orig_position = e.new_position;
    if (c.has_routing()) {
      call_routing& r = c.edit_routing();
      r.tried.clear();  // agents of the old queue: the new one starts afresh
      r.preferred_agent.clear();
      r.prefer_until_ms = 0;
    }
  }
  void operator()(const call_agent_preferred& e) {
    if (e.agent_id.empty() && !c.has_routing())
      return;
    call_routing& r = c.edit_routing();
    r.preferred_agent = e.agent_id;
    r.prefer_until_ms = e.agent_id.empty() ? 0 : e.until_ms;
  }
  void operator()(const call_announced&) { c.last_announce_ms = ts; }
  void operator()(const call_offered& e) {
    c.phase = call_phase::offered;
    call_routing& r = c.edit_routing();
    r.offer_id = e.offer_id;
    r.agent_id = e.agent_id;
    r.ring_all = e.agents;
    r.offered_ms = ts;
    c.attempts = e.attempt;
  }
  void operator()(const call_offer_failed& e) {
    if (c.phase != call_phase::offered || c.routing().offer_id != e.offer_id)
      return;
    c.phase = call_phase::queued;
    c.failed_in_row += 1;
    c.last_failed_ms = ts;
    call_routing& r = c.edit_routing();
    if (e.agents.empty())
      r.tried.push_back(e.agent_id);
    else
      r.tried.insert(r.tried.end(), e.agents.begin(), e.agents.end());
    r.ring_all.clear();
    r.agent_identity.clear();
    r.ring_identities.clear();
  }
  void operator()(const call_connected& e) {
    c.phase = call_phase::connected;
    call_routing& r = c.edit_routing();
    if (!e.agent_id.empty())
      r.agent_id = e.agent_id;  // ring-all: the leg that answered
    r.ring_all.clear();
    r.connected_ms = ts;
    r.ring_ms = e.ring_ms;
    c.failed_in_row = 0;
  }
  void operator()(const call_completed&) {
    c.phase = call_phase::completed;
    c.ended_ms = ts;
  }
  void operator()(const call_abandoned&) {
    c.phase = call_phase::abandoned;
    c.ended_ms = ts;
  }
  void operator()(const call_escalated&) { c.escalated = true; }
  void operator()(const callback_offered&) { c.callback_offered = true; }
  /// A callback due at `due_ms`: scheduled until then; due already, it
  /// waits from now, and a call never queued (refused at the door, or
  /// booked) takes its place in line now.
  void callback_at(int64_t due_ms) {
    if (due_ms > ts) {
      c.phase = call_phase::callback_scheduled;
      c.edit_routing().callback_due_ms = due_ms;
      return;
    }
    c.phase = call_phase::callback_waiting;
    c.edit_routing().callback_requested_ms = ts;
    if (c.enqueued_ms == 0)
      c.enqueued_ms = ts;
  }
  void operator()(const callback_requested& e) {
    call_routing& r = c.edit_routing();
    r.callback_id = e.callback_id;
    r.callback_number = e.number;
    r.tried.clear();
    callback_at(e.due_ms);
  }
  void operator()(const callback_due& e) {
    c.phase = call_phase::callback_waiting;
    c.edit_routing().callback_requested_ms = ts;
    c.enqueued_ms = ts;
    if (e.has_priority)
      c.priority = e.priority;
  }
  void operator()(const callback_scheduled& e) {
    open(e.call_sid, e.number, e.queue, e.caller_name, e.priority, e.order);
    c.booked = true;
    call_routing& r = c.edit_routing();
    r.callback_id = e.callback_id;
    r.callback_number = e.number;
    callback_at(e.due_ms);  // a booked callback opens its stream: never queued before
  }
  void operator()(const callback_canceled&) {
    c.phase = call_phase::callback_canceled;
    c.ended_ms = ts;
  }
  void operator()(const call_refused& e) {
    c.refused_closed = e.reason == "closed";
    if (e.action == "overflow") {
      c.queue = e.overflow_queue;
      return;
    }
    c.refused = true;
    c.callback_offered = e.action == "callback";
    c.phase = c.callback_offered ? call_phase::deciding_callback : call_phase::refused;
    if (!c.callback_offered)
      c.ended_ms = ts;
  }
  void operator()(const call_turned_away&) {
    c.phase = call_phase::refused;
    c.ended_ms = ts;
  }
  void operator()(const callback_started& e) {
    c.phase = call_phase::callback_dialing;
    c.callback_agent_answered = false;
    call_routing& r = c.edit_routing();
    r.callback_attempts = e.attempt;
    r.callback_leg_sid.clear();
    r.agent_id = e.agent_id;
    r.offered_ms = ts;
  }
  void operator()(const callback_agent_answered& e) {
    c.callback_agent_answered = true;
    if (!e.leg_sid.empty())
      c.edit_routing().callback_leg_sid = e.leg_sid;
  }
  void operator()(const callback_completed&) {
    c.phase = call_phase::callback_completed;
    c.ended_ms = ts;
  }
  void operator()(const callback_failed& e) {
    if (c.phase != call_phase::callback_dialing)
      return;
    c.phase = e.final ? call_phase::callback_failed : call_phase::callback_waiting;
    if (e.final)
      c.ended_ms = ts;
    call_routing& r = c.edit_routing();
    if (!e.final)
      r.tried.push_back(e.agent_id);
    r.agent_identity.clear();
    r.callback_leg_sid.clear();
  }
  void operator()(const callback_escalated&) {
    c.callback_escalated = true;
    c.escalated = true;
  }
  template <class Other> void operator()(const Other&) {}  // not a call event
};

}  // namespace

shared_call_state make_own(shared_call_state& c) {
  if (!c) {
    c = std::make_shared<call_state>();
    return nullptr;
  }
  if (c.use_count() > 1) {
    shared_call_state shared = std::move(c);
    c = std::make_shared<call_state>(*shared);
    return shared;
  }
  // The only holder: the others have let go, and what they read before
  // they did happens before the change (use_count() is a relaxed load;
  // the fence pairs with the release of their decrement).
  std::atomic_thread_fence(std::memory_order_acquire);
  return nullptr;
}

void apply(call_state& c, const event& e) {
  std::visit(call_applier{c, e.ts_ms}, e.body);
  ++c.version;
}

void apply_restart(call_state& c, int64_t now_ms) {
  c.last_contact_ms = now_ms;
}

std::string digest_text(const call_state& c) {
  const call_routing& r = c.routing();
  std::string text;
  text.reserve(256);
  digest_writer o(&text);
  o << "call " << c.sid << '|' << c.version << '|' << c.from << '|' << c.to << '|' << c.queue
    << '|' << c.caller_name << '|' << c.priority << '|' << phase_name(c.phase) << '|' << c.order
    << '|' << c.arrived_ms << '|' << c.enqueued_ms << '|' << c.orig_position << '|'
    << c.escalated << '|' << c.attempts << '|' << c.failed_in_row << '|' << c.last_failed_ms
    << '|';
  for (auto& t : r.tried)
    o << t << ',';
  o << '|' << r.offer_id << '|' << r.agent_id << '|' << r.offered_ms << '|' << r.connected_ms
    << '|' << c.ended_ms << '|' << r.ring_ms << '|' << c.callback_offered << '|'
    << c.last_announce_ms << '|' << r.callback_id << '|' << r.callback_number << '|'
    << r.callback_requested_ms << '|' << r.callback_attempts << c.callback_agent_answered
    << c.callback_escalated << '|' << c.refused << c.refused_closed << '|' << r.callback_due_ms;
  // Skill routing (added later): only when used, so calls without it keep
  // the digest they had.
  auto levels = [&](const std::map<std::string, int64_t>& m) {
    for (auto& [skill, level] : m)
      o << skill << ':' << level << ',';
  };
  if (!r.callback_leg_sid.empty())
    o << "|leg " << r.callback_leg_sid;
  if (!r.skills.empty()) {
    o << "|skills ";
    levels(r.skills);
  }
  if (c.require_step != -1 || !c.require.empty() || c.require_next_ms != 0) {
    o << "|require " << c.require_step << ' ' << c.require_next_ms << ' ';
    levels(c.require);
  }
  if (!r.ring_all.empty()) {
    o << "|ringing ";
    for (auto& a : r.ring_all)
      o << a << ',';
  }
  if (c.booked)
    o << "|booked";
  if (c.overflowed_ms != 0)
    o << "|overflowed " << c.overflowed_ms;
  if (!r.preferred_agent.empty() || r.prefer_until_ms != 0)
    o << "|prefers " << r.preferred_agent << ' ' << r.prefer_until_ms;
  return text;
}

}  // namespace callq
