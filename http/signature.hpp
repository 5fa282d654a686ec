// Twilio's request signature (X-Twilio-Signature) and bearer tokens.
#pragma once

#include <string>
#include <vector>

#include "http/form.hpp"

namespace callq::http {

/// base64(HMAC-SHA1(auth_token, url + every POST field sorted by name,
/// each as name + value)). A name given several times contributes each of
/// its distinct values once, in sorted order, as Twilio's helper does.
std::string twilio_signature(const std::string& auth_token, const std::string& url,
                             const form_fields& post_fields);

/// The URLs a signature may have been computed over for a request to
/// `url` (PUBLIC_BASE_URL + path + query as received), exactly the two that
/// Twilio's own helper (`validateRequest`) tries: the URL with its port
/// (the scheme's default port, 443 or 80, added when `url` names none) and
/// the URL without any port. Path, query and everything else are as given.
std::vector<std::string> twilio_signed_urls(const std::string& url);

/// True when `given` is a valid X-Twilio-Signature for a request to `url`
/// with `post_fields`, under any of twilio_signed_urls(url): `url`'s own
/// form first, the other only if that does not match. Each comparison is
/// in constant time; an empty `given` is never valid.
bool twilio_signature_valid(const std::string& auth_token, const std::string& url,
                            const form_fields& post_fields, const std::string& given);

/// Compares in time that depends only on the lengths.
bool constant_time_equal(const std::string& a, const std::string& b);

/// SHA-256 hex, used to store bearer tokens.
std::string sha256_hex(const std::string& data);

/// A new random token (32 bytes, hex).
std::string random_token();

}  // namespace callq::http
