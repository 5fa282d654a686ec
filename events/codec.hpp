// Encodings of events. The binary form is what the log stores (compact and
// fast to decode); the JSON form is for export and the HTTP API. Both are
// generic over each type's `fields()` list.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "events/event.hpp"
#include "events/status.hpp"

namespace callq::events {

/// Appends the binary form of `p`'s fields to `out`.
void encode_payload(const payload& p, std::string& out);

/// Decodes a payload of type `type` at schema version `schema` from `in`.
/// Fails (never guesses) on an unknown type, a newer schema version, or
/// truncated bytes.
status decode_payload(std::string_view type, int64_t schema,
                      std::string_view in, payload* out);

/// The payload's fields as a JSON object (camelCase keys).
nlohmann::json payload_to_json(const payload& p);

/// Builds a payload of type `type` from a JSON object; unknown types and
/// missing or mistyped fields are errors.
status payload_from_json(std::string_view type, const nlohmann::json& j,
                         payload* out);

/// The whole envelope as JSON: seq, time (ISO 8601 UTC), ts, stream,
/// version, type, schema, data, chain.
nlohmann::json envelope_to_json(const envelope& e);

/// Milliseconds since the epoch as ISO 8601 UTC with milliseconds,
/// e.g. "2026-11-25T12:00:00.000Z".
std::string format_iso8601(int64_t ms);

/// Parses ISO 8601 UTC ("2026-11-25T12:00:00Z", fractional seconds and a
/// "+HH:MM" offset allowed, a plain date too) into milliseconds.
status parse_iso8601(std::string_view text, int64_t* ms);

// Low-level primitives shared with the storage layer.

/// Appends `v` as an unsigned LEB128 varint.
void put_varint(std::string& out, uint64_t v);
/// Appends a length-prefixed string.
void put_string(std::string& out, std::string_view s);
/// Reads a varint; false on truncation.
bool get_varint(std::string_view& in, uint64_t* v);
/// Reads a length-prefixed string; false on truncation.
bool get_string(std::string_view& in, std::string_view* s);

}  // namespace callq::events
