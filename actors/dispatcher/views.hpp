// What the dispatcher's matching index knows of calls and agents: views
// that the call and agent actors send whenever their state changes. The
// index owns no entity; it only orders these.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "actors/agent/agent_state.hpp"
#include "actors/call/call_sid.hpp"
#include "actors/call/call_state.hpp"
#include "actors/lazy_part.hpp"

namespace callq {

/// What narrows which agent may take a call, and when: set only once an
/// offer of it has failed, it waits as a callback, it needs skills or it
/// waits for one agent. A call that only waits carries none of it
/// (call_view::routing()).
struct call_view_routing {
  std::string callback_id;         ///< a callback's offer id, for its attempts
  std::vector<std::string> tried;  ///< agents whose offer failed this round
  /// Until then, agents in `tried` are not offered it again (the caller
  /// first hears the callback offer); 0 when not resting.
  int64_t rest_until_ms = 0;
  int64_t failed_in_row = 0;  ///< offers failed in a row
  /// The skills an agent needs to take it now (skill -> minimum level).
  std::map<std::string, int64_t> require;
  /// The only agent who may take it now (`preferLastAgentSeconds`);
  /// empty: anyone who meets `require`.
  std::string preferred_agent;
  /// Whether every field is at its default (the part need not be made).
  bool empty() const {
    return callback_id.empty() && tried.empty() && rest_until_ms == 0 && failed_in_row == 0 &&
           require.empty() && preferred_agent.empty();
  }
};

/// A call as the matching index sees it.
struct call_view {
  call_sid sid;  ///< shared with the call's actor and its registry entry
  std::string queue;
  line_key key;
  bool dispatchable = false;  ///< waiting (a call or a callback) and not ringing
  bool callback = false;      ///< a callback: the agent is called first
  /// FEATURE_MULTI_AGENT_FALLBACK for this call: after a failed offer the
  /// next agent is tried at once (else at the next sweep).
  bool fallback = true;
  /// FEATURE_AGENT_POLLING for this call: when `fallback` is off, a failed
  /// offer leaves it to the periodic sweep, which offers it again only
  /// when this is on (else no agent is offered it again).
  bool polled = true;
  /// The agent-side checks its flags apply (agent_check bits): an agent
  /// may take it when eligible under them (agent_view::eligible_under).
  uint8_t agent_checks = check_heartbeat | check_device | check_readiness;
  uint64_t version = 0;  ///< the call's stream version this view shows

  /// Its callback id, tried agents, rest, failures, skills and preferred
  /// agent; all empty when none was ever set.
  const call_view_routing& routing() const { return routing_.get(); }
  /// The same, to write: made on first use.
  call_view_routing& edit_routing() { return routing_.edit(); }
  /// Whether the part was made (view_of() makes it only when not empty).
  bool has_routing() const { return routing_.present(); }

 private:
  lazy_part<call_view_routing> routing_;
};

/// An agent as the matching index sees it.
struct agent_view {
  std::string id;
  std::string identity;   ///< the softphone's client identity
  std::map<std::string, membership> members;  ///< by queue: penalty and counts
  std::map<std::string, int64_t> skills;       ///< skill -> level 1-10
  bool eligible = false;  ///< may be offered a call now (under the server's flags)
  /// Bit k set: may be offered a call whose agent-side checks are k now
  /// (eligible_under_checks(); 0 while reserved).
  uint8_t eligible_under = 0;
  bool staffed = false;
  int64_t rank = 0;       ///< readiness (0 without enhanced discovery)
  int64_t idle_since_ms = 0;
  uint64_t version = 0;
};

}  // namespace callq
