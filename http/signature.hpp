// Twilio's request signature (X-Twilio-Signature) and bearer tokens.
#pragma once

#include <string>

#include "http/form.hpp"

namespace callq::http {

/// base64(HMAC-SHA1(auth_token, url + every POST field sorted by name,
/// each as name + value)).
std::string twilio_signature(const std::string& auth_token, const std::string& url,
                             const form_fields& post_fields);

/// Compares in time that depends only on the lengths.
bool constant_time_equal(const std::string& a, const std::string& b);

/// SHA-256 hex, used to store bearer tokens.
std::string sha256_hex(const std::string& data);

/// A new random token (32 bytes, hex).
std::string random_token();

}  // namespace callq::http
