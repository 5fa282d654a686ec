// Everything the log says, applied with the entities' own event handlers:
// every live call and agent, the caller directory, each queue's line (for
// positions), staffing and the counters. The server keeps one world as
// its read model (fed with durable events, so what it shows is on disk),
// start-up builds one to spawn the actors from, and `callq replay` builds
// one offline. Pure: no CAF, no clock, no I/O.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "actors/agent/agent_state.hpp"
#include "actors/call/call_logic.hpp"
#include "actors/call/call_state.hpp"
#include "actors/dispatcher/queue_config.hpp"
#include "actors/policy.hpp"
#include "actors/world/ranked_line.hpp"
#include "events/event.hpp"

namespace callq {

/// Counters derived from events (so live and replayed values agree).
struct world_metrics {
  int64_t calls = 0, answered = 0, answered_in_sl = 0, completed = 0, abandoned = 0,
          escalated = 0;
  std::map<std::string, int64_t> offers_by_outcome;     ///< connected, no-answer, ...
  std::map<std::string, int64_t> callbacks_by_outcome;  ///< requested, completed, failed
  int64_t avg_handle_ms = 0;  ///< moving average of talk time, 0 until known
  /// Callers' patience, for the wait prediction: over the callers who
  /// left the line (answered or abandoned), the time they waited and how
  /// many gave up, both decayed by 1 % per caller so recent ones count
  /// most. abandon_per_ms() is their ratio.
  double waited_ms = 0, gave_up = 0;
  /// The rate at which one waiting caller gives up (per ms), 0 until a
  /// caller has abandoned.
  double abandon_per_ms() const { return waited_ms > 0 ? gave_up / waited_ms : 0.0; }
  /// Talk time for the wait prediction: over the calls completed, their
  /// talk time and their count, both decayed by talk_decay per call, so
  /// that about the last 1 / (1 - talk_decay) calls count (avg_handle_ms,
  /// which the status view shows, follows the last few).
  double talked_ms = 0, talks = 0;
  static constexpr double talk_decay = 0.98;
  /// The talk time a wait is predicted with, 0 until a call has completed
  /// (avg_handle_ms after a start from a snapshot written before it).
  int64_t predicted_handle_ms() const {
    return talks > 0 ? static_cast<int64_t>(talked_ms / talks) : avg_handle_ms;
  }
};

/// One minute of a queue's service-level figures (README, "Queues and
/// routing"): calls answered, answered within the queue's
/// serviceLevelSeconds, abandoned after it.
struct sl_minute {
  int64_t minute = 0;  ///< minutes since the epoch
  int64_t answered = 0, answered_within = 0, abandoned_after = 0;
  bool operator==(const sl_minute& o) const {
    return minute == o.minute && answered == o.answered &&
           answered_within == o.answered_within && abandoned_after == o.abandoned_after;
  }
};

/// A service level over a window.
struct service_level {
  int64_t answered = 0, answered_within = 0, abandoned = 0;
  /// answered_within / (answered + abandoned after the threshold); 1 when
  /// there was nothing to count.
  double ratio() const {
    int64_t n = answered + abandoned;
    return n == 0 ? 1.0 : static_cast<double>(answered_within) / static_cast<double>(n);
  }
};

/// The largest ids the log holds, so a restarted server never reuses one.
struct world_counters {
  uint64_t call_order = 0;  ///< arrival numbers
  uint64_t offer = 0;       ///< "OF<n>", of offers calls took (`call.offered`)
  uint64_t callback = 0;    ///< "CB<n>"
  /// "OF<n>" of every reservation an agent recorded (`agent.offer_received`),
  /// taken by the call or not: an id a refused reservation used is never
  /// issued again. Apart from `offer` (and left out of the digest), so
  /// that digests recorded before it existed still verify.
  uint64_t offer_reserved = 0;
};

/// A waiting call as operators see it.
struct waiting_view {
  std::string call_sid;
  int64_t position = 0, wait_seconds = 0, priority = 0, attempts = 0;
  call_phase phase = call_phase::queued;
  bool escalated = false, callback_offered = false, callback_requested = false;
  /// The skills an agent needs to take it now (empty: anyone), and the
  /// agent it waits for (`preferLastAgentSeconds`; empty: anyone).
  std::map<std::string, int64_t> require;
  std::string preferred_agent;
};

/// A callback as `GET /api/callbacks` shows it: a caller's (press 1) or
/// one an operator booked.
struct callback_view {
  std::string callback_id, call_sid, number, queue, name;
  std::string agent_id;  ///< the agent of the last attempt, if any
  call_phase phase = call_phase::callback_waiting;
  bool booked = false;   ///< booked through the API
  int64_t created_ms = 0, due_ms = 0, ended_ms = 0, attempts = 0;
};

/// The agent a caller last talked to, and when (`preferLastAgentSeconds`).
struct last_contact {
  std::string agent_id;
  int64_t at_ms = 0;
};

/// One finished call of a caller, for the agent page's history.
struct call_history_entry {
  std::string call_sid, queue, agent_id;
  std::string outcome;      ///< the call's final phase, e.g. "completed", "abandoned"
  std::string disposition;  ///< what its agent recorded at wrap-up; empty: nothing
  int64_t at_ms = 0;        ///< when the call arrived
};

/// One queue as operators see it.
struct queue_view {
  std::string name;
  queue_config config;      ///< the rules in force (defaults when not configured)
  bool configured = false;  ///< a `queue.configured` event set them
  std::vector<waiting_view> waiting;  ///< in dispatch order, the first `waiting_limit`
  int64_t waiting_count = 0;          ///< all of them, however many are listed
  int64_t longest_wait_seconds = 0;
  int64_t ready_agents = 0, staffed_agents = 0;
  service_level today, last_15m;  ///< "today" in the queue's time zone (UTC without hours)
};

/// An agent as operators see it.
struct agent_status_view {
  std::string agent_id, name, state, status, pause_reason;
  int64_t readiness = 0, missed_offers = 0;
  int64_t last_heartbeat_age_seconds = -1;  ///< -1: none since start
  int64_t state_seconds = -1;  ///< time in `state`; -1: unknown (from an older snapshot)
  bool device_registered = false;
  std::vector<std::string> queues;
};

/// The operators' view: queues in dispatch order, agents, counters.
struct status_view {
  std::vector<queue_view> queues;
  std::vector<agent_status_view> agents;
  world_metrics metrics;
  int64_t default_handle_ms = 0;
};

/// Figures for /metrics, cheap to take whatever the queue length.
struct world_summary {
  std::map<std::string, int64_t> waiting_by_queue;
  std::map<std::string, service_level> sl_today, sl_last_15m;  ///< by queue
  std::map<std::string, int64_t> longest_wait_seconds;  ///< by queue
  std::map<std::string, int64_t> agents_by_state;
  world_metrics metrics;
  uint64_t last_seq = 0;
};

/// The durable content of a world, from which every index is rebuilt:
/// what a snapshot holds. The dispatcher's inputs (each entity's view)
/// are derived from the calls and agents.
struct world_image {
  std::vector<call_state> calls;    ///< live calls, in no particular order
  std::vector<agent_state> agents;  ///< existing agents
  std::map<std::string, caller_entry> directory;
  world_metrics metrics;
  world_counters counters;
  std::map<std::string, std::string> queue_configs;  ///< queue -> canonical JSON
  std::map<std::string, std::string> last_offered;   ///< queue -> agent id
  std::map<std::string, std::vector<sl_minute>> service_minutes;  ///< by queue, oldest first
  std::map<std::string, last_contact> last_agents;  ///< by caller number
  std::vector<callback_view> callbacks;  ///< live, and finished ones still kept
  std::map<std::string, int64_t> state_since;  ///< agent id -> when its visible state began
  /// By caller number, the last history_size finished calls, newest first.
  std::map<std::string, std::vector<call_history_entry>> caller_history;
  uint64_t last_seq = 0;  ///< the last event applied
};

/// Call states by CallSid, for world::apply(): the states a batch's call
/// actors hold after it. Holds pointers: `states` outlives it.
class settled_calls {
 public:
  /// No state known.
  settled_calls() = default;
  explicit settled_calls(const std::vector<shared_call_state>& states);
  /// The state known for `sid` (the last of `states` for it: a batch of
  /// several appends may hold one per append), or nullptr.
  const shared_call_state* find(std::string_view sid) const;

 private:
  /// Batches with this many states or fewer are searched in order.
  static constexpr size_t linear_limit = 16;
  const std::vector<shared_call_state>* states_ = nullptr;
  std::unordered_map<std::string_view, const shared_call_state*> by_sid_;
};

class world {
 public:
  explicit world(policy rules) : rules_(std::move(rules)) {}

  /// A world holding `img`, with its lines, wait times and staffing
  /// rebuilt: equal (digest) to the world the image was taken of.
  static world from_image(policy rules, world_image img);

  /// A copy of the durable content (volatile agent facts left out).
  world_image image() const;

  /// Applies one logged event (`seq` is its sequence number).
  void apply(uint64_t seq, const events::event& e);

  /// Applies one logged event, where `settled` holds call states known to
  /// equal what applying the events up to their version gives (the call
  /// actors' states after a durable batch). When `e` brings its call to
  /// the version of the state `settled` holds for it, the world takes that
  /// state instead of copying and changing its own (the same result as
  /// apply() then adopt(), without the copy).
  void apply(uint64_t seq, const events::event& e, const settled_calls& settled);

  /// Holds `state`, a call actor's state after events this world has
  /// applied, instead of its own equal copy: the state is then in memory
  /// once. Does nothing unless the world holds that call at the same
  /// stream version (a finished call, or a state the world is behind or
  /// ahead of, keeps its own). The world copies before changing it again.
  void adopt(const shared_call_state& state);

  /// 1-based place of `key` in the line of `queue`, counting the entries
  /// before it (so a call's own place, or the place it would enter at).
  int64_t position_of(const std::string& queue, const line_key& key) const;
  /// Staffed agents in `queue`.
  int64_t staffed(const std::string& queue) const;
  /// Calls holding a place in `queue`'s line (waiting, ringing, or a
  /// callback waiting): the status view's waiting count.
  int64_t waiting(const std::string& queue) const;
  /// The caller directory's entry for `number` (default when unknown).
  caller_entry caller(const std::string& number) const;
  /// The agent `number` last talked to (a call or a callback) within the
  /// last `last_agent_keep_ms` before `now_ms`; empty when none.
  std::string last_agent_of(const std::string& number, int64_t now_ms) const;
  /// How long a caller's last agent is remembered: 30 days.
  static constexpr int64_t last_agent_keep_ms = 30LL * 24 * 3600 * 1000;
  /// The last finished calls of `number`, newest first (at most
  /// history_size, none older than last_agent_keep_ms).
  std::vector<call_history_entry> history_of(const std::string& number) const;
  static constexpr size_t history_size = 5;
  /// How many entries the 30-day expiry of last agents and caller
  /// histories holds: one per number remembered, however often it called.
  size_t expiry_entries() const { return contact_times_.size() + history_times_.size(); }
  /// The agent whose bearer token hashes to `token_hash`, or nullptr.
  const agent_state* agent_by_token(const std::string& token_hash) const;
  /// Callbacks in `phase` (every one when unset), oldest first: live ones
  /// and those that finished within `callback_keep_ms`.
  std::vector<callback_view> callbacks(std::optional<call_phase> phase) const;
  /// The callback `id`, or nullptr when unknown (or long finished).
  const callback_view* find_callback(const std::string& id) const;
  /// How long a finished callback stays listed: 7 days.
  static constexpr int64_t callback_keep_ms = 7LL * 24 * 3600 * 1000;
  /// Whether `agent_id` is a staffed member of `queue` with the skills of
  /// `require` (so a call may wait for that agent). An agent not heard
  /// from since a restart counts as staffed; one whose heartbeat timed out
  /// does not.
  bool can_take(const std::string& queue, const std::string& agent_id,
                const std::map<std::string, int64_t>& require) const;

  /// Unfinished calls by CallSid (each key views the sid of the state it
  /// maps to). A call's state may be the one its actor holds too
  /// (adopt()): read it, never change it.
  using call_map = std::unordered_map<std::string_view, shared_call_state>;
  const call_map& calls() const { return calls_; }
  const std::map<std::string, agent_state>& agents() const { return agents_; }
  const std::map<std::string, caller_entry>& directory() const { return directory_; }
  const call_state* find_call(const std::string& sid) const;
  const agent_state* find_agent(const std::string& id) const;
  const world_metrics& metrics() const { return metrics_; }
  const world_counters& counters() const { return counters_; }
  /// Configured queues (those without a configuration run on defaults).
  const std::map<std::string, queue_config>& queue_configs() const { return queue_configs_; }
  /// The configuration `queue` runs under (defaults when not configured).
  const queue_config& config_of(const std::string& queue) const;
  /// Per queue, the agent last offered one of its calls (round-robin).
  const std::map<std::string, std::string>& last_offered() const { return last_offered_; }
  /// Every queue that is configured or named by a call or an agent.
  std::set<std::string> known_queues() const;
  /// `queue`'s service level today (since local midnight in its hours'
  /// time zone, UTC without hours) and over the last 15 minutes, at
  /// `now_ms`.
  service_level service_level_today(const std::string& queue, int64_t now_ms) const;
  service_level service_level_last_15m(const std::string& queue, int64_t now_ms) const;
  const policy& rules() const { return rules_; }
  uint64_t last_seq() const { return last_seq_; }

  /// The operators' view at `now_ms`, listing at most `waiting_limit`
  /// waiting calls per queue (the first in dispatch order; the counts
  /// and the longest wait cover them all). `heartbeats` (agent id -> last
  /// heartbeat, volatile facts the log does not hold) gives the agents'
  /// heartbeat ages and readiness; without it none is known.
  status_view status(int64_t now_ms,
                     size_t waiting_limit = std::numeric_limits<size_t>::max(),
                     const std::unordered_map<std::string, int64_t>* heartbeats = nullptr) const;
  /// Counts for /metrics at `now_ms`: O(queues + agents), whatever the
  /// number of waiting calls.
  world_summary summary(int64_t now_ms) const;

  /// "<format>:" + SHA-256 hex over every entity's digest text (with its
  /// stream version), each call's position, the directory and the
  /// counters: equal for the server's read model and a replay of the same
  /// events. Digests of different formats are not comparable.
  std::string digest() const;
  static constexpr int digest_format = 5;
  std::string digest_text() const;

 private:
  void apply_call(uint64_t seq, const events::event& e, std::string_view sid,
                  const settled_calls& settled);
  /// Points the place in its line of the call whose state was `before`
  /// at `now`, the equal state that replaced it. `before` must still be
  /// alive: the line's comparisons read the CallSid through it.
  void repoint(const call_state& before, const call_state* now);
  /// Points the key of `i` at the sid of the state it now maps to. Called
  /// while the string the key viewed is still alive (the state replaced,
  /// or the event's CallSid), so the key is never read dangling.
  void rekey(call_map::iterator& i);
  void apply_agent(const events::event& e, const std::string& id);
  void count(const events::event& e);
  void restaff(const agent_state& a, bool add);
  /// Notes `ts_ms` as the start of `a`'s visible state when it is no
  /// longer `before`.
  void note_state(const agent_state& a, const std::string& before, int64_t ts_ms);
  /// Remembers that `number` talked to `agent_id` at `at_ms`; forgets
  /// contacts older than last_agent_keep_ms.
  void remember_contact(const std::string& number, const std::string& agent_id, int64_t at_ms);
  /// Adds the finished call `c` to its caller's history at `ts_ms`;
  /// forgets histories older than last_agent_keep_ms.
  void remember_history(const call_state& c, int64_t ts_ms);
  /// Updates the callback of `c` after an event at `ts_ms`; forgets
  /// callbacks finished more than callback_keep_ms before.
  void track_callback(const call_state& c, int64_t ts_ms);
  /// Counts a call answered (`answered`) or abandoned in `queue` after
  /// `waited_seconds`, at `ts_ms`, and drops minutes older than a day.
  void count_service(const std::string& queue, int64_t ts_ms, int64_t waited_seconds,
                     bool answered);
  service_level sum_service(const std::string& queue, int64_t from_minute) const;

  policy rules_;
  /// Unfinished calls. A key views its state's sid rather than holding a
  /// copy of its own (two copies of a CallSid per call and world, the
  /// read model keeping two worlds); rekey() points it at the new state
  /// whenever the world replaces a call's state.
  call_map calls_;
  std::map<std::string, agent_state> agents_;
  std::map<std::string, caller_entry> directory_;
  std::map<std::string, ranked_line> lines_;
  std::map<std::string, std::unordered_set<std::string>> staffed_;
  world_metrics metrics_;
  world_counters counters_;
  std::map<std::string, queue_config> queue_configs_;
  std::map<std::string, std::string> last_offered_;
  std::map<std::string, std::deque<sl_minute>> service_minutes_;
  std::unordered_map<std::string, last_contact> last_agents_;  ///< by caller number
  /// (at, number) of each number in last_agents_, oldest first: one entry
  /// per number, however often it calls.
  std::set<std::pair<int64_t, std::string>> contact_times_;
  std::unordered_map<std::string, callback_view> callbacks_;    ///< by callback id
  std::deque<std::pair<int64_t, std::string>> callback_ends_;   ///< (ended, id), oldest first
  std::unordered_map<std::string, int64_t> state_since_;  ///< agent id -> visible state's start
  std::unordered_map<std::string, std::vector<call_history_entry>> history_;  ///< by number
  std::unordered_map<std::string, std::string> history_sids_;  ///< call sid -> number
  /// (time of its oldest entry, number) of each number in history_, oldest
  /// first: one entry per number.
  std::set<std::pair<int64_t, std::string>> history_times_;
  uint64_t last_seq_ = 0;
};

}  // namespace callq
