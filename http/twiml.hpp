// Renders what the state logic decided a caller hears as TwiML.
#pragma once

#include <string>

#include "actors/replies.hpp"

namespace callq::http {

/// Fixed inputs of the rendering.
struct twiml_settings {
  std::string public_base_url = "http://localhost:8080";
  int64_t offer_timeout_seconds = 20;
  std::string hold_music_url;
  bool hold_music = true;
  std::string caller_id;
};

/// The TwiML document for `v`.
std::string render_twiml(const voice_reply& v, const twiml_settings& s);

/// Escapes &, <, >, " and ' for XML text and attributes.
std::string xml_escape(const std::string& s);

}  // namespace callq::http
