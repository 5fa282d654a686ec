// The dispatcher's matching index: per queue, the calls that can be
// offered in dispatch order and the agents that can take one, best first.
// Fed by the call and agent actors' views; owns no entity and writes no
// event. Pure: no CAF, no clock reads, no I/O.
//
// A match costs O(log n): the best head call across the queues that
// changed gets the best ready agent of its queue, preferring agents who
// have not failed it ("the next agent"); only a bounded number of entries
// is looked at. A matched call and agent are held out of matching until
// the reservation for them ends.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "actors/dispatcher/views.hpp"
#include "actors/policy.hpp"

namespace callq {

/// A proposed offer.
struct match {
  std::string call_sid, agent_id, queue;
  bool callback = false;
  std::string callback_id;  ///< when `callback`
  std::string identity;     ///< the agent's client identity
};

class match_index {
 public:
  explicit match_index(const policy& rules) : rules_(rules) {}

  /// Records the newest view of a call (older versions are ignored). A
  /// call that is neither in line nor waiting leaves the index.
  void update(const call_view& v);
  /// Records the newest view of an agent (older versions are ignored).
  void update(const agent_view& v);
  /// Forgets an agent (removed).
  void remove_agent(const std::string& id);
  /// Forgets a call (finished).
  void remove_call(const std::string& sid);

  /// The best match now, holding both sides; nullopt when none. `full`
  /// looks at every queue (a sweep) and also offers calls that
  /// FEATURE_MULTI_AGENT_FALLBACK=false leaves for the sweep.
  std::optional<match> next(int64_t now_ms, bool full);

  /// The best ready agent for `sid` now (legacy routing), holding both;
  /// nullopt when none.
  std::optional<match> direct(const std::string& sid, int64_t now_ms);

  /// Ends a hold (the reservation ended, whichever way).
  void release(const match& m);

  /// The newest view of a call or agent, or nullptr.
  const call_view* find_call(const std::string& sid) const;
  const agent_view* find_agent(const std::string& id) const;

  /// Calls that can be offered, and agents that can take one (not held).
  size_t waiting() const;
  size_t ready() const;
  size_t held() const { return held_calls_.size(); }

  /// Checks the index: empty when no call waits beside an agent ready for
  /// it (apart from held ones and calls resting at `now_ms`).
  std::string check_idle(int64_t now_ms) const;

 private:
  struct call_entry {
    line_key key;
    std::string sid;
    bool operator<(const call_entry& o) const {
      if (!(key == o.key))
        return key < o.key;
      return sid < o.sid;
    }
  };
  struct agent_entry {
    int64_t rank = 0, idle_since_ms = 0;
    std::string id;
    bool operator<(const agent_entry& o) const {
      if (rank != o.rank)
        return rank > o.rank;
      if (idle_since_ms != o.idle_since_ms)
        return idle_since_ms < o.idle_since_ms;
      return id < o.id;
    }
  };
  struct queue_sets {
    std::set<call_entry> calls;    ///< dispatchable, not held
    std::set<agent_entry> agents;  ///< eligible, not held
  };

  void index_call(const call_view& v, bool add);
  void index_agent(const agent_view& v, bool add);
  std::optional<match> best_in(queue_sets& q, const std::string& queue, int64_t now_ms,
                               bool full);
  void hold(const match& m);

  const policy& rules_;
  std::map<std::string, queue_sets> queues_;
  std::unordered_map<std::string, call_view> calls_;
  std::unordered_map<std::string, agent_view> agents_;
  std::unordered_set<std::string> held_calls_, held_agents_;
  std::set<std::string> dirty_;  ///< queues that changed since last exhausted
};

}  // namespace callq
