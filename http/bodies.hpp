// The JSON bodies of the agent and admin API: parsed and validated into
// commands, or refused with the reason a 400 answer gives. Pure (no HTTP,
// no actors), so the bytes a client sends can be fuzzed directly.
#pragma once

#include <string>
#include <string_view>

#include "actors/commands.hpp"
#include "events/status.hpp"

namespace callq::http {

/// `POST /api/agent-heartbeat`: {"agentId", "status", "deviceRegistered"?,
/// "reason"?} (the reason is checked against AGENT_PAUSE_REASONS by the
/// route).
/// `token_hash` is left empty (it comes from the Authorization header).
status parse_heartbeat_body(std::string_view body, cmd::heartbeat* out);

/// `PUT /api/agents/{id}`: {"name"?, "clientIdentity"?, "queues"?, "skills"?};
/// an empty body is {}. Name and identity default to `id`, queues to
/// `default_queue`. `token_hash` is left empty.
status parse_agent_body(std::string_view body, const std::string& id,
                        const std::string& default_queue, cmd::put_agent* out);

/// `PUT /api/callers/{E164}`: {"name"?, "priority"?}.
status parse_caller_body(std::string_view body, const std::string& number, cmd::put_caller* out);

/// `POST /api/callbacks`: {"number", "queue"?, "at"?, "name"?}. `number`
/// must be E.164, `queue` a queue name (default `default_queue`), `at` an
/// ISO 8601 time (absent: now); any other field is refused. `callback_id`
/// is left empty (the runtime gives it).
status parse_callback_body(std::string_view body, const std::string& default_queue,
                           cmd::schedule_callback* out);

/// 1-64 letters, digits, '.', '_', '@' or '-'.
bool valid_id(const std::string& s);
/// 1-64 letters, digits, '.', '_' or '-'.
bool valid_queue(const std::string& s);
/// '+' and 2-15 digits, the first not 0.
bool valid_e164(const std::string& s);

}  // namespace callq::http
