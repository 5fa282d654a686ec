// The entities the state logic keeps: calls, agents, caller directory
// entries and the per-queue indexes the dispatcher matches with.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>

namespace callq {

struct call;
struct agent;

/// Where a call is in its life.
enum class call_phase {
  arrived,            ///< recorded, not yet queued
  queued,             ///< waiting for an agent
  offered,            ///< an agent's phone is ringing
  connected,          ///< talking to an agent
  completed,          ///< done after talking
  abandoned,          ///< caller hung up before being connected
  callback_waiting,   ///< left the phone queue for a callback, keeps place
  callback_dialing,   ///< an agent is being called / talking for the callback
  callback_completed,
  callback_failed,
};

/// Name used in views and timelines, e.g. "callback-waiting".
const char* phase_name(call_phase p);

/// True for phases after which nothing more happens to the call.
bool is_finished(call_phase p);

/// A queue entry's place in dispatch order: escalated first, then higher
/// priority, then earlier enqueue time, then arrival order.
struct wait_key {
  bool escalated = false;
  int64_t priority = 0;
  int64_t enqueued_ms = 0;
  uint64_t order = 0;
  call* c = nullptr;
  bool operator<(const wait_key& o) const {
    if (escalated != o.escalated)
      return escalated;
    if (priority != o.priority)
      return priority > o.priority;
    if (enqueued_ms != o.enqueued_ms)
      return enqueued_ms < o.enqueued_ms;
    return order < o.order;
  }
};

/// An eligible agent's place: higher readiness first, then longest idle.
struct agent_key {
  int64_t readiness = 0;
  int64_t idle_since_ms = 0;
  agent* a = nullptr;
  bool operator<(const agent_key& o) const;
};

/// A set with O(log n) rank queries (callers' positions).
using ranked_wait_set =
    __gnu_pbds::tree<wait_key, __gnu_pbds::null_type, std::less<wait_key>,
                     __gnu_pbds::rb_tree_tag,
                     __gnu_pbds::tree_order_statistics_node_update>;

/// One queue's indexes.
struct queue_index {
  /// Every entry that still holds a place: queued, offered, callback
  /// waiting. Positions are ranks in this set.
  ranked_wait_set line;
  /// Entries that can be offered now: queued and callback waiting.
  std::set<wait_key> dispatchable;
  /// Agents eligible for an offer from this queue.
  std::set<agent_key> ready;
  /// Agents logged in, fresh and not paused (for the wait estimate).
  std::unordered_set<std::string> staffed;
};

/// A call and everything the rules need to know about it.
struct call {
  std::string sid, from, to, queue, caller_name;
  int64_t priority = 0;
  call_phase phase = call_phase::arrived;
  uint64_t order = 0;           ///< arrival number, the last tie-breaker
  int64_t arrived_ms = 0;
  int64_t enqueued_ms = 0;
  int64_t orig_position = 0;
  bool escalated = false;
  bool in_line = false;          ///< member of queue_index::line
  bool dispatchable = false;     ///< member of queue_index::dispatchable
  int64_t attempts = 0;          ///< offers made
  int64_t failed_in_row = 0;     ///< failed offers since the last connect
  int64_t last_failed_ms = 0;    ///< when the last offer failed
  std::vector<std::string> tried;  ///< agents whose offer failed this round
  std::string offer_id, agent_id;  ///< current or last offer
  int64_t offered_ms = 0, connected_ms = 0, ended_ms = 0;
  int64_t ring_ms = 0;           ///< ring time of the connecting offer
  bool callback_offered = false;
  int64_t last_announce_ms = 0;
  std::string callback_id, callback_number;
  int64_t callback_requested_ms = 0;
  int64_t callback_attempts = 0;
  bool callback_agent_answered = false;
  bool callback_escalated = false;
  /// Volatile: last time Twilio asked about this call (orphan detection).
  int64_t last_contact_ms = 0;

  wait_key key() { return {escalated, priority, enqueued_ms, order, this}; }
};

/// An agent.
struct agent {
  std::string id, display_name, identity, token_hash;
  std::vector<std::string> queues, skills;
  std::string status = "offline";  ///< as last reported
  bool device = false;
  bool fresh = false;              ///< heartbeat seen since start, not expired
  bool expired = false;            ///< the last heartbeat timed out
  bool paused = false;
  std::string pause_reason;
  int64_t missed = 0;              ///< missed offers in a row
  int64_t readiness = 0;
  int64_t idle_since_ms = 0;
  bool in_wrap_up = false;
  int64_t wrap_until_ms = 0;
  std::string offer_id, offer_call;  ///< ringing: offer or callback id
  std::string on_call;               ///< connected call
  int64_t logged_in_ms = 0;
  bool indexed = false;            ///< member of ready sets
  agent_key key_in_index;
  /// Volatile: time of the last heartbeat (not logged; see README).
  int64_t last_heartbeat_ms = 0;
};

inline bool agent_key::operator<(const agent_key& o) const {
  if (readiness != o.readiness)
    return readiness > o.readiness;
  if (idle_since_ms != o.idle_since_ms)
    return idle_since_ms < o.idle_since_ms;
  return a->id < o.a->id;
}

/// A caller directory entry.
struct caller_entry {
  std::string display_name;
  int64_t priority = 0;
};

}  // namespace callq
