// The contact centre's state and rules: calls, agents, queues and the
// dispatcher's matching, as plain C++ with no actors, no clock and no I/O.
//
// Commands are decided into events; events are applied to state by
// apply(), the only code that changes durable state. Deciding a command is
// a sequence of steps, each of which reads the state, emits an event and
// applies it at once, so later steps (the follow-up rules, then dispatch)
// see its effect. Replay feeds the logged events through the same apply().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/commands.hpp"
#include "actors/model.hpp"
#include "actors/policy.hpp"
#include "actors/replies.hpp"
#include "events/event.hpp"

namespace callq {

/// Counters derived from events (so live and replayed values agree).
struct center_metrics {
  int64_t calls = 0, answered = 0, answered_in_sl = 0, completed = 0,
          abandoned = 0, escalated = 0;
  std::map<std::string, int64_t> offers_by_outcome;  ///< connected, no-answer, ...
  std::map<std::string, int64_t> callbacks_by_outcome;  ///< requested, completed, failed
  int64_t avg_handle_ms = 0;  ///< moving average of talk time, 0 until known
};

class center {
 public:
  /// Events decided for one command plus the answer to send once they are
  /// durable.
  struct result {
    std::vector<events::event> events;
    reply answer;
  };

  explicit center(policy rules);
  ~center();
  center(const center&) = delete;
  center& operator=(const center&) = delete;

  /// Decides `c` at time `now_ms`: the command's own events, then the
  /// follow-up rules (escalation, callback offers, auto-pause, readiness),
  /// then dispatch. Every returned event is already applied.
  result handle(const cmd::command& c, int64_t now_ms);

  /// Applies one event (live or replayed). Never reads the clock.
  void apply(const events::event& e);

  /// "<format>:" + SHA-256 hex of the durable state (active calls, agents,
  /// directory, counters): equal for live and replayed state at the same
  /// point. Digests of different formats are not comparable.
  std::string digest() const;

  /// The digest format this build computes; raise it whenever
  /// digest_text() changes.
  static constexpr int digest_format = 2;

  /// The canonical text the digest is computed from (for debugging).
  std::string digest_text() const;

  /// The operators' view: queues in dispatch order, agents, metrics.
  nlohmann::json status_view(int64_t now_ms) const;

  /// One call or agent, or nullptr.
  const call* find_call(const std::string& sid) const;
  const agent* find_agent(const std::string& id) const;

  /// All agents and calls (tests, views).
  const std::unordered_map<std::string, std::unique_ptr<agent>>& agents() const { return agents_; }
  const std::unordered_map<std::string, std::unique_ptr<call>>& calls() const { return calls_; }
  const std::map<std::string, queue_index>& queues() const { return queues_; }
  const center_metrics& metrics() const { return metrics_; }
  const policy& rules() const { return rules_; }

  /// 1-based place of a call in its queue's line, 0 if it has none.
  int64_t position_of(const call& c) const;

  /// The state string an operator sees for an agent, e.g. "wrap-up".
  std::string agent_state(const agent& a) const;

  /// Checks the indexes against the entities; empty when consistent.
  std::string check_invariants() const;

 private:
  // Decision steps (center_decide.cpp): each emits events through emit().
  reply on(const cmd::incoming_call&);
  reply on(const cmd::hold_poll&);
  reply on(const cmd::callback_response&);
  reply on(const cmd::queue_left&);
  reply on(const cmd::connect_agent&);
  reply on(const cmd::agent_leg_status&);
  reply on(const cmd::dial_result&);
  reply on(const cmd::call_status&);
  reply on(const cmd::callback_connect&);
  reply on(const cmd::callback_result&);
  reply on(const cmd::redirect_failed&);
  reply on(const cmd::callback_call_failed&);
  reply on(const cmd::heartbeat&);
  reply on(const cmd::put_agent&);
  reply on(const cmd::delete_agent&);
  reply on(const cmd::put_caller&);
  reply on(const cmd::tick&);
  reply on(const cmd::sweep&);
  reply on(const cmd::heartbeat_cleanup&);
  reply on(const cmd::queue_cleanup&);
  reply on(const cmd::recover&);
  reply on(const cmd::record_digest&);
  reply on(const cmd::queue_status&);

  // Shared decision pieces.
  void emit(events::payload p);
  void fail_offer(call& c, const std::string& reason);
  void abandon(call& c, const std::string& reason);
  void complete(call& c, const std::string& ended_by, int64_t talk_seconds);
  void start_wrap_up(agent& a, const std::string& call_sid);
  voice_reply enqueue_reply(const call& c, bool greet) const;
  call* call_by_offer(const std::string& offer_id);
  call* call_by_callback(const std::string& callback_id);

  // Follow-up rules and matching (center_rules.cpp).
  void settle();
  void settle_call(call& c);
  void settle_agent(agent& a);
  int64_t dispatch(bool full);
  bool resting(const call& c) const;
  /// Callbacks are on and the caller's `From` can be dialled.
  bool can_call_back(const call& c) const;
  bool offer_next(queue_index& q, bool full);
  void fire_timers();
  void schedule(int64_t at_ms, char kind, const std::string& id);

  // Index maintenance (center_apply.cpp).
  void index_call(call& c);
  void unindex_call(call& c);
  void reindex_agent(agent& a);
  void unindex_agent(agent& a);
  bool eligible(const agent& a) const;
  bool staffing(const agent& a) const;
  void release_agent_offer(const std::string& agent_id, const std::string& offer_id);
  void mark_dirty_queue(const std::string& q);

  struct applier;  // the event handler, center_apply.cpp
  friend struct applier;

  policy rules_;
  int64_t now_ms_ = 0;                       ///< time of the command being decided
  std::vector<events::event>* out_ = nullptr;  ///< where emit() records

  std::unordered_map<std::string, std::unique_ptr<call>> calls_;
  std::unordered_map<std::string, std::unique_ptr<agent>> agents_;
  std::unordered_map<std::string, caller_entry> directory_;
  std::map<std::string, queue_index> queues_;
  std::unordered_map<std::string, std::string> offers_;     ///< offer id -> call sid
  std::unordered_map<std::string, std::string> callbacks_;  ///< callback id -> call sid
  uint64_t call_counter_ = 0;
  uint64_t offer_counter_ = 0;
  uint64_t callback_counter_ = 0;
  center_metrics metrics_;

  // Volatile: work for the rules and the dispatcher, and timers.
  std::set<std::string> dirty_calls_, dirty_agents_, dirty_queues_;
  std::multimap<int64_t, std::pair<char, std::string>> timers_;
};

}  // namespace callq
