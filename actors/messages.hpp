// The messages actors exchange. All of them stay inside the process, so
// they are whitelisted rather than made serializable.
#pragma once

#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/commands.hpp"
#include "actors/replies.hpp"
#include "events/event.hpp"
#include "storage/event_log.hpp"

namespace callq {

using append_atom = caf::atom_constant<caf::atom("append")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using command_atom = caf::atom_constant<caf::atom("command")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using redirect_atom = caf::atom_constant<caf::atom("redirect")>;
using originate_atom = caf::atom_constant<caf::atom("originate")>;

/// Events and idempotency entries to append in one atomic write.
struct journal_batch {
  std::vector<events::event> events;
  std::vector<storage::idempotency_entry> idempotency;
};

/// A command and the idempotency key of the request that carried it.
struct command_request {
  cmd::command command;
  std::string idempotency_key;  ///< empty when the request had none
};

/// Work for the Twilio gateway: a REST request to make.
struct rest_job {
  enum class kind { redirect_call, create_call } what = kind::redirect_call;
  std::string call_sid;     ///< redirect: the call to redirect
  std::string offer_id;     ///< redirect
  std::string callback_id;  ///< create: the callback
  std::string identity;     ///< create: the agent's client identity
  int attempt = 1;
};

}  // namespace callq

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::journal_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::command_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(callq::rest_job)
