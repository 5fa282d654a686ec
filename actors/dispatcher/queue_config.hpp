// A queue's routing rules, as `PUT /api/queues/{name}` writes them and the
// `queue.configured` event records them: the strategy, limits, overflow,
// skill steps, service level and opening hours. Parsing validates every
// field (a queue's configuration is refused whole or stored whole); the
// canonical JSON form is what the event carries. Pure: no CAF, no clock,
// no I/O (time zones are looked up in the system's tz database).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "actors/dispatcher/opening_hours.hpp"
#include "actors/dispatcher/prompts.hpp"
#include "events/status.hpp"

namespace callq {

/// Which ready agent gets a queue's next call.
enum class routing_strategy {
  longest_idle,     ///< readiness, then longest idle (the default)
  round_robin,      ///< the member after the one offered last
  fewest_calls,     ///< fewest answered calls since joining the queue
  least_talk_time,  ///< least talk time since joining the queue
  random,           ///< any, drawn at random (the draw is in the event)
  linear,           ///< penalty, then agent id, always from the top
  ring_all,         ///< up to ringAllMax agents rung at once
};

/// The wire word, e.g. "longest-idle".
const char* strategy_name(routing_strategy s);
/// Parses a wire word; false for anything else.
bool parse_strategy(const std::string& text, routing_strategy* out);

/// What happens to a caller arriving at a full (or unstaffed) queue.
enum class full_action { callback, overflow, hangup };
const char* full_action_name(full_action a);

/// From `after_seconds` of waiting on, a call needs these skills (skill ->
/// minimum level).
struct skill_step {
  int64_t after_seconds = 0;
  std::map<std::string, int64_t> require;
};

/// A queue's configuration; the defaults are a queue nobody configured.
struct queue_config {
  routing_strategy strategy = routing_strategy::longest_idle;
  int64_t ring_all_max = 5;
  int64_t max_waiting = 0;  ///< 0: no limit
  full_action when_full = full_action::callback;
  bool join_when_no_agents = true;
  int64_t overflow_after_seconds = 0;  ///< 0: never
  std::string overflow_queue;
  int64_t service_level_seconds = 20;
  double service_level_target = 0.8;
  std::vector<skill_step> skill_steps;
  int64_t prefer_last_agent_seconds = 0;
  std::optional<opening_hours> hours;
  /// What an agent may record as a call's outcome at wrap-up (empty: no
  /// disposition asked). Each 1-64 characters, no control characters.
  std::vector<std::string> dispositions;
  /// The agent page's link for an offered call, with `{from}`, `{callSid}`,
  /// `{queue}` and `{name}` (see screen_pop_url()); empty: none.
  std::string screen_pop_url;
  /// What its callers hear: language, voice, prompts, more languages,
  /// how the wait is announced (prompts.hpp).
  speech_config speech;
};

/// `c`'s screenPopUrl with its placeholders filled in, each value
/// URL-encoded; empty when the queue has none.
std::string screen_pop_url(const queue_config& c, const std::string& from,
                           const std::string& call_sid, const std::string& queue,
                           const std::string& name);

/// Parses and validates one configuration (`PUT` body or an event's
/// `config`): unknown fields, wrong types and impossible values are
/// invalid_argument with a reason naming the field. Does not look at
/// other queues (see overflow_loop()).
status parse_queue_config(const nlohmann::json& j, queue_config* out);

/// The same from text; a body that is not a JSON object is invalid.
status parse_queue_config(const std::string& text, queue_config* out);

/// The canonical JSON form: every field, defaults filled in, `hours` null
/// when the queue has none. `dispositions`, `screenPopUrl` and the
/// speech fields (prompts.hpp) appear only when set, so that configurations recorded before they existed keep
/// their canonical form (and the log's digests still verify).
nlohmann::json to_json(const queue_config& c);

/// The skills a call needs at one moment of its wait.
struct requirement {
  int64_t step = -1;  ///< the skillSteps entry in force; -1 before the first
  std::map<std::string, int64_t> require;  ///< skill -> minimum level; empty: anyone
  int64_t next_after_seconds = -1;         ///< when the next step is due; -1: none
  bool operator==(const requirement& o) const {
    return step == o.step && require == o.require && next_after_seconds == o.next_after_seconds;
  }
  bool operator!=(const requirement& o) const { return !(*this == o); }
};

/// The requirement of a call that has waited `waited_seconds` under
/// `steps`: the last step reached (none before the first).
/// `first_override`, when set and not empty, replaces the first step's
/// requirement (the voice webhook's `skills=`); without steps it holds
/// throughout as step 0.
requirement requirement_at(const std::vector<skill_step>& steps, int64_t waited_seconds,
                           const std::map<std::string, int64_t>* first_override = nullptr);

/// Whether an agent holding `skills` (skill -> level) may take a call that
/// requires `require`: each required skill at that level or higher. The
/// one eligibility rule: the matching index, the tests and the benchmark
/// all ask it.
bool meets_requirement(const std::map<std::string, int64_t>& skills,
                       const std::map<std::string, int64_t>& require);

/// Whether the overflow chain that starts at `name` configured as
/// `config`, through `others` (every other stored configuration), comes
/// back to a queue it passed: then the loop as "a -> b -> a", else empty.
std::string overflow_loop(const std::string& name, const queue_config& config,
                          const std::map<std::string, queue_config>& others);

/// 1-64 letters, digits, '.', '_' or '-': a queue name.
bool valid_queue_name(const std::string& s);

/// 1-64 characters, none of them ',', ':' or a control character: a
/// skill name (the voice webhook's `skills=` separates with those).
bool valid_skill_name(const std::string& s);

/// Parses the voice webhook's `skills=es:3,billing` (level 1 when
/// omitted; levels 1-10).
status parse_skill_list(const std::string& text, std::map<std::string, int64_t>* out);

}  // namespace callq
