// The event as the domain sees it (timestamp + typed payload) and as the log
// stores it (the envelope: sequence number, stream, stream version, schema
// version, integrity chain).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/catalogue.hpp"

namespace callq::events {

/// A domain event: what happened and when (milliseconds since the Unix
/// epoch, read from the injected clock by whoever decided the event).
struct event {
  int64_t ts_ms = 0;
  payload body;
};

/// A SHA-256 value of the integrity chain.
using chain_value = std::array<unsigned char, 32>;

/// An event as stored in the log.
struct envelope {
  uint64_t seq = 0;             ///< global, gap-free, from 1; set by the log
  std::string stream;           ///< e.g. "call/CA123", "agent/alice"
  uint64_t stream_version = 0;  ///< per stream, from 1; set by the log
  int64_t schema = 0;           ///< schema version of the payload type
  event ev;
  chain_value chain{};          ///< SHA-256(previous chain || stored bytes)
};

/// The wire name of the payload's type, e.g. "call.offered".
std::string_view type_name(const payload& p);

/// The schema version this build writes for the payload's type.
int64_t schema_of(const payload& p);

/// The kinds of stream an event can belong to.
enum class stream_kind { call, agent, caller, queue, system };

/// An event's stream without building its name: its kind and the id after
/// the kind's prefix (a view into the payload; empty for `system`).
struct stream_ref {
  stream_kind kind = stream_kind::system;
  std::string_view id;
};

/// The stream an event belongs to, as stream_of() names it.
stream_ref stream_ref_of(const payload& p);

/// The stream an event belongs to: "call/<CallSid>", "agent/<id>",
/// "caller/<number>", "queue/<name>" or "system".
std::string stream_of(const payload& p);

/// The stream of the call `sid`: "call/<CallSid>".
std::string call_stream(std::string_view sid);

/// The stream of the agent `id`: "agent/<id>".
std::string agent_stream(std::string_view id);

/// The call sid carried by the payload, or empty.
std::string_view call_sid_of(const payload& p);

/// The agent id carried by the payload, or empty.
std::string_view agent_id_of(const payload& p);

/// The queue name carried by the payload, or empty.
std::string_view queue_of(const payload& p);

/// Lower-case hex of a chain value.
std::string to_hex(const chain_value& c);

}  // namespace callq::events
