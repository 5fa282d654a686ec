// Follow-up rules (escalation, callback offers, auto-pause, readiness),
// timers and the dispatcher's matching.
#include <algorithm>

#include "actors/center.hpp"
#include "actors/phone_number.hpp"
#include "actors/readiness.hpp"

namespace callq {

using namespace events;

void center::schedule(int64_t at_ms, char kind, const std::string& id) {
  timers_.emplace(at_ms, std::make_pair(kind, id));
}

void center::fire_timers() {
  while (!timers_.empty() && timers_.begin()->first <= now_ms_) {
    auto [kind, id] = timers_.begin()->second;
    timers_.erase(timers_.begin());
    if (kind == 'u' || kind == 'h') {
      auto i = agents_.find(id);
      if (i == agents_.end())
        continue;
      agent& a = *i->second;
      if (kind == 'u' && a.in_wrap_up && a.wrap_until_ms <= now_ms_)
        emit(agent_wrap_up_ended{a.id});
      if (kind == 'h' && rules_.feature_agent_heartbeat && a.fresh && a.last_heartbeat_ms > 0 &&
          now_ms_ - a.last_heartbeat_ms >= rules_.heartbeat_timeout_ms)
        emit(agent_heartbeat_expired{a.id, "heartbeat-timeout",
                                     (now_ms_ - a.last_heartbeat_ms) / 1000});
      continue;
    }
    auto i = calls_.find(id);
    if (i == calls_.end())
      continue;
    call& c = *i->second;
    switch (kind) {
      case 'w':  // max queue wait: the rules decide
      case 's':  // callback SLA: the rules decide
        dirty_calls_.insert(c.sid);
        break;
      case 'r':  // the pause after MAX_OFFER_ATTEMPTS failures is over
        if (c.dispatchable)
          mark_dirty_queue(c.queue);
        break;
      case 'o':
        if (c.phase == call_phase::offered &&
            now_ms_ - c.offered_ms >= rules_.offer_timeout_ms + rules_.offer_grace_ms)
          fail_offer(c, "timeout");
        break;
      case 'c':
        if (c.phase == call_phase::callback_dialing && !c.callback_agent_answered &&
            now_ms_ - c.offered_ms >= rules_.callback_ring_ms)
          emit(callback_failed{c.sid, c.callback_id, c.agent_id, "agent-no-answer",
                               c.callback_attempts,
                               c.callback_attempts >= rules_.callback_max_attempts});
        break;
      default:
        break;
    }
  }
}

void center::settle() {
  for (int round = 0; round < 8 && (!dirty_calls_.empty() || !dirty_agents_.empty()); ++round) {
    auto calls = std::move(dirty_calls_);
    dirty_calls_.clear();
    for (auto& sid : calls)
      if (auto i = calls_.find(sid); i != calls_.end())
        settle_call(*i->second);
    auto agents = std::move(dirty_agents_);
    dirty_agents_.clear();
    for (auto& id : agents)
      if (auto i = agents_.find(id); i != agents_.end())
        settle_agent(*i->second);
  }
}

void center::settle_call(call& c) {
  int64_t waited = c.enqueued_ms > 0 ? (now_ms_ - c.enqueued_ms) / 1000 : 0;
  if (c.phase == call_phase::queued) {
    if (rules_.escalate_after_failed_offers > 0 && !c.escalated &&
        c.failed_in_row >= rules_.escalate_after_failed_offers)
      emit(call_escalated{c.sid, "failed-offers", c.failed_in_row});
    if (can_call_back(c) && !c.callback_offered) {
      if (rules_.max_offer_attempts > 0 && c.failed_in_row >= rules_.max_offer_attempts)
        emit(callback_offered{c.sid, "max-attempts", waited});
      else if (c.enqueued_ms > 0 && now_ms_ - c.enqueued_ms >= rules_.max_queue_wait_ms)
        emit(callback_offered{c.sid, "max-wait", waited});
    }
  }
  if (c.phase == call_phase::callback_waiting && !c.callback_escalated &&
      now_ms_ - c.callback_requested_ms >= rules_.callback_sla_ms)
    emit(callback_escalated{c.sid, c.callback_id, (now_ms_ - c.callback_requested_ms) / 1000});
}

void center::settle_agent(agent& a) {
  if (rules_.agent_max_no_answer > 0 && !a.paused && a.missed >= rules_.agent_max_no_answer)
    emit(agent_paused{a.id, "auto-pause", a.missed});
  int64_t r = readiness_score(a, rules_, now_ms_);
  if (r != a.readiness)
    emit(agent_readiness_changed{a.id, r, a.readiness});
}

// ----------------------------------------------------------- dispatch --

bool center::can_call_back(const call& c) const {
  return rules_.feature_callback_request_system && is_dialable_number(c.from);
}

bool center::resting(const call& c) const {
  return c.phase == call_phase::queued && rules_.max_offer_attempts > 0 &&
         is_dialable_number(c.from) &&
         c.failed_in_row >= rules_.max_offer_attempts &&
         now_ms_ - c.last_failed_ms < rules_.announce_interval_ms;
}

bool center::offer_next(queue_index& q, bool full) {
  // The best waiting entry gets the best ready agent, preferring agents
  // who have not already failed it ("the next agent"); when every ready
  // agent has failed it, the best of them is tried again rather than
  // leaving the caller waiting beside an idle agent -- except right after
  // MAX_OFFER_ATTEMPTS failures, when the caller first gets one announce
  // interval to hear the callback offer. Only a bounded part of the sets
  // is looked at, so a match costs O(log n).
  int entries = 0;
  for (auto it = q.dispatchable.begin(); it != q.dispatchable.end() && entries < 16; ++it, ++entries) {
    call& c = *it->c;
    // Without FEATURE_MULTI_AGENT_FALLBACK a failed call waits for a sweep.
    if (!full && !rules_.feature_multi_agent_fallback && c.failed_in_row > 0)
      continue;
    agent* chosen = nullptr;
    size_t looked = 0;
    for (auto& ak : q.ready) {
      if (looked++ > c.tried.size())
        break;
      if (std::find(c.tried.begin(), c.tried.end(), ak.a->id) == c.tried.end()) {
        chosen = ak.a;
        break;
      }
    }
    if (chosen == nullptr && !resting(c))
      chosen = q.ready.begin()->a;
    if (chosen == nullptr)
      continue;
    if (c.phase == call_phase::callback_waiting) {
      emit(callback_started{c.sid, c.callback_id, chosen->id, c.callback_attempts + 1});
    } else {
      std::string offer_id = "OF" + std::to_string(offer_counter_ + 1);
      emit(call_offered{c.sid, chosen->id, offer_id, c.queue, c.attempts + 1, false});
    }
    return true;
  }
  return false;
}

int64_t center::dispatch(bool full) {
  std::vector<queue_index*> candidates;
  if (full) {
    for (auto& [name, q] : queues_)
      candidates.push_back(&q);
  } else {
    for (auto& name : dirty_queues_)
      if (auto i = queues_.find(name); i != queues_.end())
        candidates.push_back(&i->second);
  }
  dirty_queues_.clear();
  int64_t matched = 0;
  for (;;) {
    // Across queues, the best head entry goes first.
    queue_index* best = nullptr;
    for (auto* q : candidates) {
      if (q->dispatchable.empty() || q->ready.empty())
        continue;
      if (best == nullptr || *q->dispatchable.begin() < *best->dispatchable.begin())
        best = q;
    }
    if (best == nullptr)
      break;
    if (offer_next(*best, full))
      ++matched;
    else
      candidates.erase(std::find(candidates.begin(), candidates.end(), best));
  }
  dirty_queues_.clear();  // offers made above marked nothing new to do
  return matched;
}

}  // namespace callq
