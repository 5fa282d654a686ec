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
//
// Each queue keeps its ready members ordered for its strategy (README,
// "Queues and routing"): by penalty first, then by the strategy's measure
// (readiness and idle time, answered calls, talk time) or by agent id
// (round-robin, linear, random), so the best agent is the first entry,
// or (round-robin) the first after the one offered last, or (random) a
// drawn entry of the lowest penalty present.
//
// Skills: a queue's calls are grouped by what they require at the moment
// (their skill step's `require`; README, "Queues and routing"). Each group
// keeps its calls in dispatch order and the queue's ready members who meet
// its requirement, in the same strategy order; calls that need nothing use
// the queue's own member set. So a group's head call meets its best agent
// in O(log n), a call whose skills nobody ready has keeps its place while
// the groups behind it are served, and an agent becoming ready is checked
// against each group of its queues (a few per queue: one per step in use),
// never against every waiting call.
//
// A call waiting for the agent its caller last talked to
// (`preferLastAgentSeconds`) is in a group of its own kind, keyed by its
// requirement and that agent, whose only possible member is that agent;
// when the wait for the agent ends, the call moves to its requirement's
// ordinary group. Such groups live only as long as those waits.
//
// Flags by share: a call whose flags apply other agent-side checks than
// the server's (FEATURE_AGENT_HEARTBEAT, FEATURE_DEVICE_CONNECTIVITY,
// FEATURE_ENHANCED_DISCOVERY off for it) is in a group of its own kind
// too, keyed also by those checks, whose members are the agents eligible
// under them (agent_view::eligible_under), ordered without readiness when
// those checks leave it out (the legacy path's order).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "actors/dispatcher/queue_config.hpp"
#include "actors/dispatcher/views.hpp"
#include "actors/policy.hpp"

namespace callq {

/// A proposed offer.
struct match {
  /// `queue`: the call's queue, among whose members the agents were
  /// matched (cmd::take_offer::queue, cmd::reserve::queue).
  std::string call_sid, agent_id, queue;
  bool callback = false;
  std::string callback_id;  ///< when `callback`
  std::string identity;     ///< the agent's client identity
  /// ring-all: the other agents rung with the first (id, identity), up to
  /// the queue's ringAllMax in all; empty otherwise.
  std::vector<std::pair<std::string, std::string>> also = {};
  /// The agent-side checks the call's flags apply (call_view::agent_checks).
  uint8_t agent_checks = check_heartbeat | check_device | check_readiness;
  /// The call's skill requirement the agents were matched against (its
  /// view's; cmd::take_offer::require).
  std::map<std::string, int64_t> require = {};
};

class match_index {
 public:
  /// `seed` seeds the draws of the random strategy.
  explicit match_index(const policy& rules, uint64_t seed = 1)
      : rules_(rules), checks_(agent_checks_of(rules)), rng_state_(seed | 1) {}

  /// Sets the rules of `queue` (nullptr: the defaults); its members are
  /// reordered for the new strategy.
  void configure(const std::string& queue, const queue_config* config);
  /// The rules `queue` runs under.
  const queue_config& config_of(const std::string& queue) const;
  /// Remembers the agent last offered a call of `queue` (round-robin
  /// starts after it); the dispatcher restores it at start-up.
  void set_last_offered(const std::string& queue, const std::string& agent_id);
  /// Whether a call or an agent names `queue` (waiting, ringing or
  /// member).
  bool in_use(const std::string& queue) const;

  /// Records the newest view of a call (older versions are ignored). A
  /// call that is neither in line nor waiting leaves the index.
  void update(const call_view& v);
  /// Records the newest view of an agent (older versions are ignored);
  /// its `eligible` implies `eligible_under` for the server's checks and
  /// every set of fewer.
  void update(const agent_view& v);
  /// Forgets an agent (removed).
  void remove_agent(const std::string& id);
  /// Forgets a call (finished).
  void remove_call(std::string_view sid);

  /// The best match now, holding both sides; nullopt when none. `full`
  /// looks at every queue (a sweep) and also offers calls that
  /// FEATURE_MULTI_AGENT_FALLBACK=false leaves for the sweep.
  std::optional<match> next(int64_t now_ms, bool full);

  /// The best ready agent for `sid` now (legacy routing), holding both;
  /// nullopt when none.
  std::optional<match> direct(std::string_view sid, int64_t now_ms);

  /// Ends a hold (the reservation ended, whichever way).
  void release(const match& m);

  /// The newest view of a call or agent, or nullptr.
  const call_view* find_call(std::string_view sid) const;
  const agent_view* find_agent(const std::string& id) const;

  /// Calls that can be offered, and agents that can take one (not held).
  size_t waiting() const;
  size_t ready() const;
  size_t held() const { return held_calls_.size(); }

  /// Checks the index: empty when no call waits beside an agent ready for
  /// it (apart from held ones and calls resting at `now_ms`).
  std::string check_idle(int64_t now_ms) const;

 private:
  /// A dispatchable call's place in its group: its key, then its CallSid.
  /// Points at the call's view in calls_, whose node lives until the
  /// entry is erased (index_call(..., false) comes before every erase).
  struct call_entry {
    line_key key;
    const call_view* call;
    bool operator<(const call_entry& o) const {
      if (!(key == o.key))
        return key < o.key;
      return call->sid < o.call->sid;
    }
  };
  /// A ready member's place in its queue: penalty, then the strategy's
  /// two measures (smaller first), then id.
  struct agent_entry {
    int64_t penalty = 0, first = 0, second = 0;
    std::string id;
    bool operator<(const agent_entry& o) const {
      if (penalty != o.penalty)
        return penalty < o.penalty;
      if (first != o.first)
        return first < o.first;
      if (second != o.second)
        return second < o.second;
      return id < o.id;
    }
  };
  using levels = std::map<std::string, int64_t>;
  /// The calls of one queue that need the same skills (and wait for the
  /// same agent, if any), and the ready members who may take them.
  struct call_group {
    levels require;
    std::string preferred;         ///< the only agent allowed; empty: any
    uint8_t checks = 0;            ///< its calls' agent-side checks
    bool own_checks = false;       ///< `checks` are not the server's
    std::set<call_entry> calls;    ///< dispatchable, not held
    std::set<agent_entry> agents;  ///< unless open() (then the queue's)
    /// Whether every ready member may take its calls.
    bool open() const { return require.empty() && preferred.empty() && !own_checks; }
  };
  struct queue_sets {
    std::map<std::string, call_group> groups;  ///< by signature(require)
    std::set<agent_entry> agents;  ///< eligible, not held
    queue_config config;
    std::string last_offered;      ///< round-robin's memory
  };

  /// The key of a call's group, e.g. "billing:1,es:3," ("" for none),
  /// with "@agent" when it waits for that agent and "#k" when its flags
  /// apply the agent-side checks k, not the server's.
  std::string signature(const call_view& c) const;
  /// Whether `v` may take the calls of `g`.
  static bool meets(const agent_view& v, const call_group& g);
  /// The ready members that may take the calls of `g`.
  static std::set<agent_entry>& agents_of(queue_sets& q, call_group& g) {
    return g.open() ? q.agents : g.agents;
  }
  /// The place of `v` (a member `m` of `q`) among the agents offered calls
  /// whose agent-side checks are `checks`: readiness counts only when they
  /// include check_readiness.
  agent_entry entry_of(const agent_view& v, const membership& m, const queue_sets& q,
                       uint8_t checks) const;
  /// Adds or removes the entry of `v`, a view stored in calls_.
  void index_call(const call_view& v, bool add);
  /// Stores `v` as the newest view of its call: calls_ is keyed by a view
  /// of the stored CallSid, re-pointed whenever the view is replaced, so a
  /// waiting call's CallSid is held once here.
  call_view& store(const call_view& v);
  void index_agent(const agent_view& v, bool add);
  /// Fills `g`'s members from those of `q` (the sets of `queue`).
  void fill_group(const std::string& queue, queue_sets& q, call_group& g) const;
  /// Up to `n` of `agents` (ready members of `q`) in the order the
  /// strategy offers them.
  std::vector<const agent_entry*> candidates(queue_sets& q, const std::set<agent_entry>& agents,
                                             size_t n);
  uint64_t draw();
  std::optional<match> best_in(queue_sets& q, call_group& g, const std::string& queue,
                               int64_t now_ms, bool full);
  void hold(const match& m);

  const policy& rules_;
  uint8_t checks_;  ///< the server's agent-side checks (agent_checks_of(rules_))
  std::map<std::string, queue_sets> queues_;
  std::unordered_map<std::string_view, call_view> calls_;  ///< keys view their value's sid
  std::unordered_map<std::string, agent_view> agents_;
  /// Calls held by a reservation; keys view their value.
  std::unordered_map<std::string_view, call_sid> held_calls_;
  std::unordered_set<std::string> held_agents_;
  std::set<std::string> dirty_;  ///< queues that changed since last exhausted
  uint64_t rng_state_;
};

}  // namespace callq
