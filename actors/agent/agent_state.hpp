// One agent's state: everything the events of its stream (`agent/<id>`)
// say, and the event handler that is the only code changing it. Pure: no
// CAF, no clock, no I/O; the agent actor, the read model and replay all
// apply events with apply() below.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/policy.hpp"
#include "events/event.hpp"

namespace callq {

/// What an agent last reported about itself.
enum class agent_status { available, busy, on_break, offline };

/// The wire word: "available", "busy", "break", "offline".
const char* status_name(agent_status s);

/// Parses a wire word; false for anything else.
bool parse_status(const std::string& text, agent_status* out);

/// An agent's membership of one queue: its penalty, and what the
/// fewest-calls and least-talk-time strategies count since it joined.
struct membership {
  int64_t penalty = 0;
  int64_t joined_ms = 0;
  int64_t answered = 0;  ///< calls of this queue answered since joining
  int64_t talk_ms = 0;   ///< their talk time
  bool operator==(const membership& o) const {
    return penalty == o.penalty && joined_ms == o.joined_ms && answered == o.answered &&
           talk_ms == o.talk_ms;
  }
};

/// One agent.
struct agent_state {
  std::string id, display_name, identity, token_hash;
  std::vector<std::string> queues, skills;  ///< names, as given
  std::map<std::string, membership> members;     ///< by queue
  std::map<std::string, int64_t> skill_levels;   ///< skill -> level 1-10
  agent_status status = agent_status::offline;  ///< as last reported
  bool device = false;
  bool fresh = false;              ///< heartbeat seen since start, not expired
  bool expired = false;            ///< the last heartbeat timed out
  bool paused = false;
  std::string pause_reason;        ///< callq's pause (auto-pause)
  std::string break_reason;        ///< the reason the agent gave with status break
  /// The last call the agent talked on (kept after it ended, for its
  /// wrap-up), its queue, and whether its outcome was recorded.
  std::string last_call, last_call_queue;
  bool last_call_recorded = false;
  int64_t missed = 0;              ///< missed offers in a row
  int64_t readiness = 0;
  int64_t idle_since_ms = 0;
  bool in_wrap_up = false;
  int64_t wrap_until_ms = 0;
  std::string offer_id, offer_call;  ///< ringing: offer (or callback) id and call
  std::string offer_queue;           ///< the queue of the ringing offer's call
  std::string on_call;               ///< connected call
  std::string call_queue;            ///< its queue
  int64_t call_since_ms = 0;         ///< when it was answered
  int64_t logged_in_ms = 0;
  bool removed = false;
  /// Events applied: the stream version this state is at.
  uint64_t version = 0;

  /// Volatile (not from events, not in the digest): time of the last
  /// heartbeat (see README, "What is logged"), and the reservation the
  /// agent holds for a call while the dispatcher proposes the offer.
  int64_t last_heartbeat_ms = 0;
  uint64_t reservation = 0;  ///< 0: none
  std::string reserved_for;  ///< the call's sid
  int64_t reserved_until_ms = 0;

  /// Created and not removed.
  bool exists() const { return version > 0 && !removed; }
};

/// Applies one event of the agent's own stream. Reads no clock and no
/// policy, decides nothing.
void apply(agent_state& a, const events::event& e);

/// What a restart does to every agent (the `system.started` event): no
/// agent is fresh until it heartbeats again.
void apply_restart(agent_state& a);

/// The state an operator sees, e.g. "wrap-up", "ringing", "stale".
std::string visible_state(const agent_state& a, const policy& p);

/// Logged in, fresh and not paused, with status available or busy (the
/// wait estimate's "staffed").
bool is_staffed(const agent_state& a, const policy& p);

/// Whether `a` is a member of `queue` now (its profile lists it).
inline bool member_of(const agent_state& a, const std::string& queue) {
  return a.members.count(queue) > 0;
}

/// May be offered a call now.
bool is_eligible(const agent_state& a, const policy& p);

/// The agent-side checks a FEATURE_* flag adds to is_eligible(): bits of
/// a set of checks (0-7). A call's own flags decide which apply to it
/// (README, "Feature flags by share of traffic").
enum agent_check : uint8_t {
  check_heartbeat = 1,  ///< FEATURE_AGENT_HEARTBEAT: a fresh heartbeat
  check_device = 2,     ///< FEATURE_DEVICE_CONNECTIVITY: a registered softphone
  check_readiness = 4,  ///< FEATURE_ENHANCED_DISCOVERY: readiness at the threshold
};

/// The set of checks of the three flags (or of the three passed).
uint8_t agent_checks(bool heartbeat, bool device, bool readiness);

/// The checks `p`'s own flags apply (a flag given as a share counts as on).
uint8_t agent_checks_of(const policy& p);

/// Bit k set for every set of checks k within `checks`: an agent that
/// passes `checks` is eligible (if free) under each of those sets.
uint8_t sets_within(uint8_t checks);

/// Bit k (k = 0-7, a set of agent_check bits) set when `a` may be offered
/// a call now under the checks in k; is_eligible() is bit agent_checks_of(p).
uint8_t eligible_under_checks(const agent_state& a, const policy& p);

/// Readiness 0-100 of `a` at `now_ms`:
///
///   0 when offline, stale (no fresh heartbeat) or paused; otherwise
///   100
///   - up to 40 for heartbeat age: nothing while the last heartbeat is at
///     most one interval old, then linearly to 40 at the timeout
///   - 50 when the softphone is not registered
///   - 20 per missed offer in a row (at most 60)
///   - 10 when idle for more than 30 minutes (maybe away from the desk)
///   clamped to 0..100.
///
/// Agents below policy::readiness_threshold are not offered calls.
int64_t readiness_score(const agent_state& a, const policy& p, int64_t now_ms);
/// The same, with `last_heartbeat_ms` in place of the state's own (the
/// read model keeps heartbeat times beside the state).
int64_t readiness_score(const agent_state& a, const policy& p, int64_t now_ms,
                        int64_t last_heartbeat_ms);

/// The canonical text of the durable state, for digests.
std::string digest_text(const agent_state& a);

}  // namespace callq
