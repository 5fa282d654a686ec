// What callers hear, per queue and language: the queue's language and
// voice, its own wording of each prompt, more languages, and how a wait
// is announced. Part of a queue's configuration (queue_config.hpp);
// parsing validates every field, speech_for() picks a caller's language.
// Pure: no CAF, no clock, no I/O.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "events/status.hpp"

namespace callq {

/// How a waiting caller hears the estimated wait (`{wait}`).
enum class announce_wait {
  estimate,   ///< "about N minutes" (the default)
  range,      ///< "between N and M minutes": the prediction's 10th and 90th percentile
  less_than,  ///< "less than N minutes": its 90th percentile
  off,        ///< no wait announced (the position still is)
};

/// The wire word: "estimate", "range", "less-than", "off".
const char* announce_wait_name(announce_wait a);

/// The prompts a queue may word itself, with the placeholders each takes.
/// greeting {name}, greetingUnknown, position {position}, wait {wait},
/// callbackOffer, callbackConfirmed, full.
const std::vector<std::string>& prompt_keys();

/// One language's voice and wording (keys of prompt_keys()).
struct language_prompts {
  std::string voice;  ///< a Twilio <Say> voice, e.g. "Polly.Lucia"; empty: Twilio's default
  std::map<std::string, std::string> prompts;
  bool operator==(const language_prompts& o) const {
    return voice == o.voice && prompts == o.prompts;
  }
};

/// A queue's speech settings; the defaults are today's: en-US, Twilio's
/// voice, callq's own wording, the wait as an estimate.
struct speech_config {
  std::string language = "en-US";
  language_prompts main;  ///< the voice and prompts of `language`
  std::map<std::string, language_prompts> languages;  ///< more languages, by BCP 47 tag
  announce_wait announce = announce_wait::estimate;
  bool is_default() const {
    return language == "en-US" && main == language_prompts{} && languages.empty() &&
           announce == announce_wait::estimate;
  }
};

/// Whether `key` is one of speech_config's JSON fields ("language",
/// "voice", "prompts", "languages", "announceWait").
bool is_speech_field(const std::string& key);

/// Parses one of those fields into `out`; invalid_argument with a reason
/// naming the field for a bad language tag, an unknown prompt, an unknown
/// placeholder or an empty text.
status parse_speech_field(const std::string& key, const nlohmann::json& value, speech_config* out);

/// Adds the non-default fields of `c` to `out` (a queue's canonical JSON).
void speech_to_json(const speech_config& c, nlohmann::json* out);

/// A well-formed BCP 47 tag as Twilio takes them: a 2-3 letter language,
/// then subtags of 1-8 letters or digits ("en-US", "es-419", "zh-Hans-CN").
bool valid_language_tag(const std::string& tag);

/// What a caller who asked for `requested` (may be empty) hears: its
/// language if the queue speaks it (exactly, else the first of the same
/// primary language), else the queue's own language.
struct speech {
  std::string language, voice;
  std::map<std::string, std::string> prompts;  ///< only those worded by the queue
  announce_wait announce = announce_wait::estimate;
  /// The queue set a language, a voice or more languages, or the caller
  /// asked for a language: the <Say>s name them. False: Twilio's defaults
  /// (en-US, its own voice) are what the caller hears anyway.
  bool stated = false;
};
speech speech_for(const speech_config& c, const std::string& requested);

}  // namespace callq
