// One agent's command handler: heartbeats, profile changes, timers, the
// dispatcher's reservations and what became of the agent's offers are
// decided into events, an answer and effects. Pure: no CAF, no clock reads
// (the time is an argument), no I/O.
//
// A reservation (as in Twilio TaskRouter): an eligible agent takes an offer
// (its phone rings, `agent.offer_received`) and holds it as a reservation
// while the call side takes the offer too. It always ends: confirmed (the
// offer lives on until the call reports its outcome), released (the call
// could not take it: `agent.offer_ended`), or timed out after
// policy::reservation_timeout_ms with no word from the call side. The call
// side takes an offer only within the first half of that time
// (cmd::take_offer::take_by_ms), so its confirm has the second half to
// arrive; a confirm or release of the open reservation is taken whatever
// the time, before any timer, so the call and its agent never disagree.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "actors/agent/agent_state.hpp"
#include "actors/commands.hpp"
#include "actors/dispatcher/views.hpp"
#include "actors/effects.hpp"
#include "actors/policy.hpp"
#include "actors/replies.hpp"

namespace callq {

namespace cmd {
/// Call to agent: what became of the agent's offer.
struct offer_update { offer_notice notice; };
}  // namespace cmd

/// Everything an agent handles.
using agent_command =
    std::variant<cmd::heartbeat, cmd::put_agent, cmd::delete_agent, cmd::tick,
                 cmd::heartbeat_cleanup, cmd::recover, cmd::reserve, cmd::confirm_reservation,
                 cmd::release_reservation, cmd::offer_update, cmd::wrap_up>;

/// What one command decided.
struct agent_decision {
  std::vector<events::event> events;  ///< already applied, in order
  reply answer;
  /// Offers to fail on the call side (the agent was removed while its
  /// phone rang): sent to each call as cmd::rescind_offer.
  std::vector<std::pair<std::string, cmd::rescind_offer>> rescinds;
};

/// Decides `c` for `state` at `now_ms` (the state changes only by applying
/// the events emitted, plus the volatile heartbeat time and reservation).
/// `heartbeats_waiting`: heartbeats wait to be handled (callq is behind);
/// one of them may be this agent's, so its heartbeat does not expire now
/// and its age does not lower its readiness now.
agent_decision decide(agent_state& state, const agent_command& c, const policy& p,
                      int64_t now_ms, bool heartbeats_waiting = false);

/// The next time this agent needs a tick (heartbeat expiry, end of
/// wrap-up, reservation timeout), or 0 for none.
int64_t next_deadline(const agent_state& a, const policy& p);

/// The agent as the dispatcher's matching index sees it.
agent_view view_of(const agent_state& a, const policy& p);

/// Whether two views of an agent match the same way (the version aside):
/// a view equal to the last one sent need not be sent again.
bool same_view(const agent_view& a, const agent_view& b);

}  // namespace callq
