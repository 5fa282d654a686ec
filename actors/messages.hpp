// The messages actors exchange. All of them stay inside the process, so
// they are whitelisted rather than made serializable.
#pragma once

#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/agent/agent_logic.hpp"
#include "actors/call/call_logic.hpp"
#include "actors/commands.hpp"
#include "actors/dispatcher/queue_logic.hpp"
#include "actors/dispatcher/views.hpp"
#include "actors/effects.hpp"
#include "actors/replies.hpp"
#include "events/event.hpp"
#include "storage/event_log.hpp"

namespace callq {

using append_atom = caf::atom_constant<caf::atom("append")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using command_atom = caf::atom_constant<caf::atom("command")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using view_atom = caf::atom_constant<caf::atom("view")>;
using direct_atom = caf::atom_constant<caf::atom("direct")>;
using nodirect_atom = caf::atom_constant<caf::atom("nodirect")>;
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
using schedule_atom = caf::atom_constant<caf::atom("schedule")>;
using remove_atom = caf::atom_constant<caf::atom("remove")>;
using digest_atom = caf::atom_constant<caf::atom("digest")>;
using cleanup_atom = caf::atom_constant<caf::atom("cleanup")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using recover_atom = caf::atom_constant<caf::atom("recover")>;
using beat_atom = caf::atom_constant<caf::atom("beat")>;
/// Tells the dispatcher that every entity has resolved what was open at
/// start-up: it matches from then on, never before (an offer made before a
/// call's recovery would be ended by it as if open at the crash).
using recovered_atom = caf::atom_constant<caf::atom("recovered")>;
/// An entity deciding its timers once every message that was waiting when
/// the tick came has been handled (see agent_actor.cpp).
using due_atom = caf::atom_constant<caf::atom("due")>;
/// Asks the timer service how many deadlines it holds (one per entity
/// that has one): `(pending_atom) -> int64_t`.
using pending_atom = caf::atom_constant<caf::atom("pending")>;
/// A call asked whether it has been idle long enough to be passivated.
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
/// A passivated call's actor, having handed on what was in its mailbox, stops.
using retire_atom = caf::atom_constant<caf::atom("retire")>;

/// Events and idempotency entries to append in one atomic write. An empty
/// batch is a barrier: it is answered once everything appended before it
/// is durable.
/// `expect`: the versions its writer expects its streams at before these
/// events (optimistic concurrency); the journal refuses the append, alone,
/// when one is wrong.
struct journal_batch {
  std::vector<events::event> events;
  std::vector<storage::idempotency_entry> idempotency;
  std::vector<storage::expected_version> expect;
  /// A call actor's state after `events`, for the read model to hold
  /// instead of a copy of its own once they are durable (unset: none).
  shared_call_state call_after;
};

/// A command for a call actor and the idempotency key of the request that
/// carried it (empty for internal messages and requests without one).
struct call_request {
  call_command command;
  std::string idempotency_key;
};

/// A command for an agent actor.
struct agent_request {
  agent_command command;
};

/// A queue configuration command for the dispatcher, which writes the
/// `queue/<name>` streams.
struct queue_request {
  queue_command command;
};

}  // namespace callq

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::journal_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::call_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::agent_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::queue_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::rest_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::call_view)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::agent_view)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::call_sid)
