// Read models: positions, the operators' status view, the state digest
// and the invariant check used by the property tests.
#include <algorithm>
#include <sstream>

#include "actors/center.hpp"
#include "actors/readiness.hpp"
#include "events/sha256.hpp"

namespace callq {

int64_t center::position_of(const call& c) const {
  if (!c.in_line)
    return 0;
  auto q = queues_.find(c.queue);
  if (q == queues_.end())
    return 0;
  auto& cc = const_cast<call&>(c);
  return static_cast<int64_t>(q->second.line.order_of_key(cc.key())) + 1;
}

std::string center::agent_state(const agent& a) const {
  if (a.status == "offline")
    return "offline";
  // After a restart an agent shows the state the log says (it still gets
  // no offer until it heartbeats: readiness 0); "stale" is an expiry.
  if (rules_.feature_agent_heartbeat && a.expired)
    return "stale";
  if (!a.on_call.empty())
    return "on-call";
  if (!a.offer_id.empty())
    return "ringing";
  if (a.in_wrap_up)
    return "wrap-up";
  if (a.paused)
    return "break";
  if (rules_.feature_device_connectivity && !a.device)
    return "unregistered";
  return a.status;
}

nlohmann::json center::status_view(int64_t now_ms) const {
  using nlohmann::json;
  json queues = json::array();
  for (auto& [name, q] : queues_) {
    json waiting = json::array();
    int64_t longest = 0;
    int64_t pos = 0;
    for (auto& k : q.line) {
      const call& c = *k.c;
      int64_t wait = (now_ms - c.enqueued_ms) / 1000;
      longest = std::max(longest, wait);
      waiting.push_back({{"callSid", c.sid},
                         {"position", ++pos},
                         {"waitSeconds", wait},
                         {"priority", c.priority},
                         {"attempts", c.attempts},
                         {"state", phase_name(c.phase)},
                         {"escalated", c.escalated},
                         {"callbackOffered", c.callback_offered},
                         {"callbackRequested", !c.callback_id.empty()}});
    }
    queues.push_back({{"name", name},
                      {"waiting", waiting},
                      {"longestWaitSeconds", longest},
                      {"readyAgents", q.ready.size()},
                      {"staffedAgents", q.staffed.size()}});
  }
  std::vector<const agent*> sorted;
  for (auto& [id, a] : agents_)
    sorted.push_back(a.get());
  std::sort(sorted.begin(), sorted.end(), [](auto* l, auto* r) { return l->id < r->id; });
  json agents = json::array();
  for (const agent* a : sorted) {
    json age = nullptr;
    if (a->last_heartbeat_ms > 0)
      age = (now_ms - a->last_heartbeat_ms) / 1000;
    agents.push_back({{"agentId", a->id},
                      {"name", a->display_name},
                      {"state", agent_state(*a)},
                      {"status", a->status},
                      {"readiness", readiness_score(*a, rules_, now_ms)},
                      {"lastHeartbeatAgeSeconds", age},
                      {"deviceRegistered", a->device},
                      {"missedOffers", a->missed},
                      {"pauseReason", a->pause_reason},
                      {"queues", a->queues}});
  }
  const auto& m = metrics_;
  json metrics = {{"calls", m.calls},
                  {"answered", m.answered},
                  {"answeredWithinServiceLevel", m.answered_in_sl},
                  {"serviceLevel", m.answered > 0 ? double(m.answered_in_sl) / double(m.answered) : 1.0},
                  {"completed", m.completed},
                  {"abandoned", m.abandoned},
                  {"escalated", m.escalated},
                  {"offersByOutcome", m.offers_by_outcome},
                  {"callbacksByOutcome", m.callbacks_by_outcome},
                  {"averageHandleSeconds", (m.avg_handle_ms > 0 ? m.avg_handle_ms : rules_.default_handle_ms) / 1000}};
  return {{"queues", queues}, {"agents", agents}, {"metrics", metrics}};
}

std::string center::digest_text() const {
  std::ostringstream o;
  o << "counters " << call_counter_ << ' ' << offer_counter_ << ' ' << callback_counter_ << '\n';
  const auto& m = metrics_;
  o << "metrics " << m.calls << ' ' << m.answered << ' ' << m.answered_in_sl << ' '
    << m.completed << ' ' << m.abandoned << ' ' << m.escalated << ' ' << m.avg_handle_ms;
  for (auto& [k, v] : m.offers_by_outcome)
    o << " o:" << k << '=' << v;
  for (auto& [k, v] : m.callbacks_by_outcome)
    o << " c:" << k << '=' << v;
  o << '\n';
  auto list = [&](const std::vector<std::string>& v) {
    for (auto& s : v)
      o << s << ',';
    o << '|';
  };
  std::vector<const agent*> agents;
  for (auto& [id, a] : agents_)
    agents.push_back(a.get());
  std::sort(agents.begin(), agents.end(), [](auto* l, auto* r) { return l->id < r->id; });
  for (const agent* a : agents) {
    o << "agent " << a->id << '|' << a->display_name << '|' << a->identity << '|'
      << a->token_hash << '|';
    list(a->queues);
    list(a->skills);
    o << a->status << '|' << a->device << a->fresh << a->expired << a->paused << '|' << a->pause_reason
      << '|' << a->missed << '|' << a->readiness << '|' << a->idle_since_ms << '|'
      << a->in_wrap_up << '|' << a->wrap_until_ms << '|' << a->offer_id << '|'
      << a->offer_call << '|' << a->on_call << '|' << a->logged_in_ms << '\n';
  }
  std::vector<const call*> calls;
  for (auto& [sid, c] : calls_)
    if (!is_finished(c->phase))
      calls.push_back(c.get());
  std::sort(calls.begin(), calls.end(), [](auto* l, auto* r) { return l->sid < r->sid; });
  for (const call* c : calls) {
    o << "call " << c->sid << '|' << c->from << '|' << c->to << '|' << c->queue << '|'
      << c->caller_name << '|' << c->priority << '|' << phase_name(c->phase) << '|'
      << c->order << '|' << c->arrived_ms << '|' << c->enqueued_ms << '|'
      << c->orig_position << '|' << c->escalated << '|' << c->attempts << '|'
      << c->failed_in_row << '|' << c->last_failed_ms << '|';
    list(c->tried);
    o << c->offer_id << '|' << c->agent_id << '|' << c->offered_ms << '|' << c->connected_ms
      << '|' << c->callback_offered << '|' << c->last_announce_ms << '|' << c->callback_id
      << '|' << c->callback_number << '|' << c->callback_requested_ms << '|'
      << c->callback_attempts << c->callback_agent_answered << c->callback_escalated << '|'
      << position_of(*c) << '\n';
  }
  std::vector<std::string> numbers;
  for (auto& [n, e] : directory_)
    numbers.push_back(n);
  std::sort(numbers.begin(), numbers.end());
  for (auto& n : numbers)
    o << "caller " << n << '|' << directory_.at(n).display_name << '|'
      << directory_.at(n).priority << '\n';
  return o.str();
}

std::string center::digest() const {
  return std::to_string(digest_format) + ":" + events::sha256_hex(digest_text());
}

std::string center::check_invariants() const {
  std::ostringstream problems;
  std::unordered_map<std::string, int> offers_per_agent;
  for (auto& [sid, c] : calls_) {
    bool want_dispatch = c->phase == call_phase::queued || c->phase == call_phase::callback_waiting;
    if (c->dispatchable != want_dispatch)
      problems << "call " << sid << " dispatchable flag wrong\n";
    if (c->phase == call_phase::offered || c->phase == call_phase::callback_dialing) {
      auto a = agents_.find(c->agent_id);
      bool answered_cb = c->phase == call_phase::callback_dialing && c->callback_agent_answered;
      if (a != agents_.end() && !answered_cb) {
        const std::string& id = c->phase == call_phase::offered ? c->offer_id : c->callback_id;
        if (a->second->offer_id != id)
          problems << "call " << sid << " offered to " << c->agent_id << " who holds '"
                   << a->second->offer_id << "'\n";
        ++offers_per_agent[c->agent_id];
      }
    }
  }
  for (auto& [id, n] : offers_per_agent)
    if (n > 1)
      problems << "agent " << id << " has " << n << " offers\n";
  for (auto& [id, a] : agents_) {
    if (a->indexed != eligible(*a))
      problems << "agent " << id << " ready-index membership wrong\n";
    if (!a->offer_id.empty() && !a->on_call.empty())
      problems << "agent " << id << " ringing while on a call\n";
  }
  for (auto& [name, q] : queues_) {
    size_t n = 0;
    for (auto& [sid, c] : calls_)
      n += c->dispatchable && c->queue == name;
    if (n != q.dispatchable.size())
      problems << "queue " << name << " dispatchable size " << q.dispatchable.size()
               << " != " << n << "\n";
    if (rules_.feature_multi_agent_fallback && !q.ready.empty())  // else sweeps do it
      for (auto& k : q.dispatchable)
        if (!resting(*k.c)) {
          problems << "call " << k.c->sid << " waits while agent " << q.ready.begin()->a->id
                   << " is ready\n";
          break;
        }
    for (auto i = q.line.begin(); i != q.line.end(); ++i) {
      auto next = std::next(i);
      if (next != q.line.end() && !(*i < *next))
        problems << "queue " << name << " line out of order\n";
    }
  }
  return problems.str();
}

}  // namespace callq
