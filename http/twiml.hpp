// Renders what the state logic decided a caller hears as TwiML.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "actors/dispatcher/prompts.hpp"
#include "actors/replies.hpp"

namespace callq::http {

/// Fixed inputs of the rendering.
struct twiml_settings {
  std::string public_base_url = "http://localhost:8080";
  int64_t offer_timeout_seconds = 20;
  std::string hold_music_url;
  bool hold_music = true;
  std::string caller_id;
  /// TTS_SPLICE: with audio, an announcement of position and wait not
  /// rendered whole is played from its pieces (splice_texts()) when every
  /// piece is rendered, instead of said. Off by default: the contract says
  /// a text not rendered yet is said.
  bool splice = false;
};

/// The TwiML document for `v`, spoken as `sp` says (its queue's voice,
/// language and wording for the caller's language: speech_for()). Every
/// <Say> carries `sp`'s language, and its voice when it has one (a plain
/// <Say> when nothing is stated: Twilio's defaults); a prompt the queue
/// did not word keeps callq's own (English) wording.
/// `audio`, when set, gives the URL of audio rendered ahead of time for a
/// text (README, "What callers hear": TTS), or "" to <Say> it. With
/// `s.splice`, an announcement of position and wait whose whole text has
/// no audio yet is played from its pieces (splice_texts()) when every
/// piece has audio.
using audio_lookup = std::function<std::string(const std::string& text)>;
std::string render_twiml(const voice_reply& v, const twiml_settings& s, const speech& sp,
                         const audio_lookup& audio = {});

/// Every text `sp` says that holds nothing of one call but the caller's
/// name (`caller_name`; empty: the unknown caller's greeting): what the
/// TTS service renders ahead of time. The position and wait sentences,
/// which hold numbers, are not among them.
std::vector<std::string> fixed_texts(const speech& sp, const std::string& caller_name);

/// The position and wait sentences a caller on hold is likely to hear
/// next, or the next caller to join: `v`'s announcement (a hold reply
/// that announces) at positions one before to one after its own (never
/// below 1), each with its wait a minute shorter, the same and a minute
/// longer; each text once. Empty when `v` announces nothing. What the TTS
/// service is asked for after each announcement, so that a sentence is
/// mostly rendered before its first hearer.
std::vector<std::string> nearby_hold_texts(const voice_reply& v, const speech& sp);

/// The numbers that splice_texts() holds: 1 to this.
constexpr int spliced_numbers = 60;

/// The pieces that an announcement of position and wait is played from
/// while its whole text has no audio yet, in `sp`'s wording: the words of
/// its `position` and `wait` prompts around their placeholders, the words
/// of each wait phrase of `sp`'s language around its numbers (none when
/// `sp.announce` is `off`), and the numbers 1 to spliced_numbers, each
/// alone; each text once. What the TTS service renders ahead of time
/// beside fixed_texts().
std::vector<std::string> splice_texts(const speech& sp);

/// What `{wait}` says for `v`'s prediction under `sp.announce`, in `sp`'s
/// language (English, Spanish, German or French words; English for any
/// other); empty for `off`.
std::string wait_words(const voice_reply& v, const speech& sp);

/// Escapes &, <, >, " and ' for XML text and attributes.
std::string xml_escape(const std::string& s);

}  // namespace callq::http
