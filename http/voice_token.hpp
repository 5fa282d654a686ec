// Twilio Access Tokens for the agent page's softphone (the Voice
// JavaScript SDK): a JWT signed HS256 with an API key's secret, in the
// format of Twilio's own helper libraries (header `cty` "twilio-fpa;v=1",
// grants for one identity). HMAC and base64 come from OpenSSL.
#pragma once

#include <cstdint>
#include <string>

#include "events/status.hpp"

namespace callq::http {

/// What signs agents' voice tokens (TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID,
/// TWILIO_API_KEY_SECRET, TWILIO_TWIML_APP_SID, AGENT_VOICE_TOKEN_TTL).
struct voice_token_settings {
  std::string account_sid, api_key_sid, api_key_secret, twiml_app_sid;
  int64_t ttl_seconds = 3600;
  /// All of the account, key and app are set: tokens can be minted.
  bool enabled() const {
    return !account_sid.empty() && !api_key_sid.empty() && !api_key_secret.empty() &&
           !twiml_app_sid.empty();
  }
};

/// The access token for `identity`, valid from `now_seconds` (Unix time)
/// for `s.ttl_seconds`: `jti` KEYSID-now, `iss` the key, `sub` the
/// account, `iat` and `nbf` now, `exp` now + ttl, and grants
/// (claims in the order Twilio's Node.js library writes them, so the
/// same inputs give the same token byte for byte)
/// `{"identity", "voice": {"incoming": {"allow": true}, "outgoing":
/// {"application_sid"}}}`.
std::string voice_access_token(const voice_token_settings& s, const std::string& identity,
                               int64_t now_seconds);

/// Base64url without padding (RFC 7515) of `bytes`.
std::string base64url(const std::string& bytes);
/// Decodes base64url with or without padding; false when malformed.
bool base64url_decode(const std::string& text, std::string* bytes);
/// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string hmac_sha256(const std::string& key, const std::string& data);

/// Splits a compact JWT and checks its HS256 signature under `secret`;
/// `*header` and `*payload` are the decoded JSON texts. invalid_argument
/// when it is not three base64url parts, corruption when the signature
/// does not match.
status verify_hs256(const std::string& jwt, const std::string& secret, std::string* header,
                    std::string* payload);

}  // namespace callq::http
