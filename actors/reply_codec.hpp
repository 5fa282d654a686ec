// The stored form of a Twilio answer (the idempotency store keeps the
// answer of a webhook with its events, for retries).
#pragma once

#include <string>

#include "actors/replies.hpp"

namespace callq {

/// JSON text of `v`.
std::string encode_voice_reply(const voice_reply& v);

/// Parses what encode_voice_reply() wrote; false when it is not that.
bool decode_voice_reply(const std::string& text, voice_reply* out);

}  // namespace callq
