#include "actors/dispatcher/queue_config.hpp"

#include "actors/percent_encoding.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <regex>
#include <set>

#include <date/date.h>
#include <date/tz.h>
#include <nlohmann/json.hpp>

namespace callq {

using json = nlohmann::json;

namespace {


status bad(const std::string& why) { return status::invalid_argument(why); }

/// A whole, non-negative number of seconds (or count) within `max`.
status whole(const json& v, const char* key, int64_t min, int64_t max, int64_t* out) {
  if (!v.is_number_integer())
    return bad(std::string(key) + " must be a whole number");
  int64_t n = v.get<int64_t>();
  if (n < min || n > max)
    return bad(std::string(key) + " must be between " + std::to_string(min) + " and " +
               std::to_string(max));
  *out = n;
  return status::ok();
}

status skill_levels(const json& v, const std::string& what, std::map<std::string, int64_t>* out) {
  if (!v.is_object())
    return bad(what + " must be an object of skill -> level");
  out->clear();
  for (auto& [skill, level] : v.items()) {
    if (!valid_skill_name(skill))
      return bad(what + ": invalid skill name '" + skill + "'");
    int64_t n = 0;
    if (auto st = whole(level, ("level of skill " + skill).c_str(), 1, 10, &n); !st)
      return st;
    (*out)[skill] = n;
  }
  return status::ok();
}

status parse_hours(const json& j, opening_hours* out) {
  if (!j.is_object())
    return bad("hours must be an object");
  opening_hours h;
  for (auto& [key, v] : j.items()) {
    if (key == "timezone") {
      if (!v.is_string())
        return bad("hours.timezone must be a string");
      h.timezone = v.get<std::string>();
      try {
        (void)date::locate_zone(h.timezone);
      } catch (const std::exception&) {
        return bad("hours.timezone: unknown time zone '" + h.timezone + "'");
      }
    } else if (key == "weekly") {
      if (!v.is_object())
        return bad("hours.weekly must be an object of day -> [\"HH:MM-HH:MM\", ...]");
      for (auto& [day, ranges] : v.items()) {
        int d = parse_day_key(day);
        if (d < 0)
          return bad("hours.weekly: unknown day '" + day + "' (mon, tue, wed, thu, fri, sat, sun)");
        if (!ranges.is_array())
          return bad("hours.weekly." + day + " must be an array of \"HH:MM-HH:MM\"");
        for (auto& r : ranges) {
          std::string text = r.is_string() ? r.get<std::string>() : "";
          auto dash = text.find('-');
          open_interval iv;
          if (dash == std::string::npos || !parse_clock_minutes(text.substr(0, dash), false, &iv.from_minute) ||
              !parse_clock_minutes(text.substr(dash + 1), true, &iv.to_minute))
            return bad("hours.weekly." + day + ": '" + (r.is_string() ? text : r.dump()) +
                       "' is not HH:MM-HH:MM");
          if (iv.from_minute >= iv.to_minute)
            return bad("hours.weekly." + day + ": '" + text + "' ends before it starts");
          for (auto& other : h.weekly[d])
            if (iv.from_minute < other.to_minute && other.from_minute < iv.to_minute)
              return bad("hours.weekly." + day + ": '" + text + "' overlaps another interval");
          h.weekly[d].push_back(iv);
        }
        std::sort(h.weekly[d].begin(), h.weekly[d].end(),
                  [](auto& a, auto& b) { return a.from_minute < b.from_minute; });
      }
    } else if (key == "closedDates") {
      if (!v.is_array())
        return bad("hours.closedDates must be an array of \"YYYY-MM-DD\"");
      for (auto& d : v) {
        std::string text = d.is_string() ? d.get<std::string>() : d.dump();
        int y = 0;
        unsigned mo = 0, da = 0;
        char tail = 0;
        if (!d.is_string() || text.size() != 10 ||
            std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &mo, &da, &tail) != 3 ||
            !date::year_month_day{date::year{y}, date::month{mo}, date::day{da}}.ok())
          return bad("hours.closedDates: '" + text + "' is not a date (YYYY-MM-DD)");
        h.closed_dates.push_back(text);
      }
      std::sort(h.closed_dates.begin(), h.closed_dates.end());
      h.closed_dates.erase(std::unique(h.closed_dates.begin(), h.closed_dates.end()),
                           h.closed_dates.end());
    } else if (key == "closedMessage") {
      if (!v.is_string() || v.get<std::string>().size() > 1000)
        return bad("hours.closedMessage must be a string of at most 1000 characters");
      h.closed_message = v.get<std::string>();
    } else if (key == "closedAction") {
      std::string a = v.is_string() ? v.get<std::string>() : "";
      if (a == "callback")
        h.action = closed_action::callback;
      else if (a == "message")
        h.action = closed_action::message;
      else
        return bad("hours.closedAction must be \"callback\" or \"message\"");
    } else {
      return bad("hours: unknown field '" + key + "'");
    }
  }
  if (h.timezone.empty())
    return bad("hours.timezone is required");
  *out = std::move(h);
  return status::ok();
}

}  // namespace

const char* strategy_name(routing_strategy s) {
  switch (s) {
    case routing_strategy::longest_idle: return "longest-idle";
    case routing_strategy::round_robin: return "round-robin";
    case routing_strategy::fewest_calls: return "fewest-calls";
    case routing_strategy::least_talk_time: return "least-talk-time";
    case routing_strategy::random: return "random";
    case routing_strategy::linear: return "linear";
    case routing_strategy::ring_all: return "ring-all";
  }
  return "longest-idle";
}

bool parse_strategy(const std::string& text, routing_strategy* out) {
  for (auto s : {routing_strategy::longest_idle, routing_strategy::round_robin,
                 routing_strategy::fewest_calls, routing_strategy::least_talk_time,
                 routing_strategy::random, routing_strategy::linear, routing_strategy::ring_all})
    if (text == strategy_name(s)) {
      *out = s;
      return true;
    }
  return false;
}

const char* full_action_name(full_action a) {
  switch (a) {
    case full_action::callback: return "callback";
    case full_action::overflow: return "overflow";
    case full_action::hangup: return "hangup";
  }
  return "callback";
}

bool valid_queue_name(const std::string& s) {
  // A loop, not a std::regex: every voice webhook checks its queue, and a
  // loop allocates nothing. (A profile blamed regex_match for 6 % of the
  // server's CPU; side by side the loop gained nothing measurable:
  // bench/README.md, "The signed webhook against the one-actor build".)
  if (s.empty() || s.size() > 64)
    return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '-')
      return false;
  return true;
}

bool valid_skill_name(const std::string& s) {
  if (s.empty() || s.size() > 64)
    return false;
  for (unsigned char c : s)
    if (c == ',' || c == ':' || c < 0x20 || c == 0x7f)
      return false;
  return true;
}

status parse_queue_config(const json& j, queue_config* out) {
  if (!j.is_object())
    return bad("the queue configuration must be a JSON object");
  queue_config c;
  constexpr int64_t day = 86'400, year = 365 * day;
  for (auto& [key, v] : j.items()) {
    status st = status::ok();
    if (key == "strategy") {
      if (!v.is_string() || !parse_strategy(v.get<std::string>(), &c.strategy))
        return bad("strategy must be one of longest-idle, round-robin, fewest-calls, "
                   "least-talk-time, random, linear, ring-all");
    } else if (key == "ringAllMax") {
      st = whole(v, "ringAllMax", 1, 100, &c.ring_all_max);
    } else if (key == "maxWaiting") {
      st = whole(v, "maxWaiting", 0, 1'000'000, &c.max_waiting);
    } else if (key == "whenFull") {
      std::string a = v.is_string() ? v.get<std::string>() : "";
      if (a == "callback")
        c.when_full = full_action::callback;
      else if (a == "overflow")
        c.when_full = full_action::overflow;
      else if (a == "hangup")
        c.when_full = full_action::hangup;
      else
        return bad("whenFull must be one of callback, overflow, hangup");
    } else if (key == "joinWhenNoAgents") {
      if (!v.is_boolean())
        return bad("joinWhenNoAgents must be true or false");
      c.join_when_no_agents = v.get<bool>();
    } else if (key == "overflowAfterSeconds") {
      st = whole(v, "overflowAfterSeconds", 0, year, &c.overflow_after_seconds);
    } else if (key == "overflowQueue") {
      if (!v.is_string())
        return bad("overflowQueue must be a string");
      c.overflow_queue = v.get<std::string>();
      if (!c.overflow_queue.empty() && !valid_queue_name(c.overflow_queue))
        return bad("overflowQueue: invalid queue name '" + c.overflow_queue + "'");
    } else if (key == "serviceLevelSeconds") {
      st = whole(v, "serviceLevelSeconds", 1, day, &c.service_level_seconds);
    } else if (key == "serviceLevelTarget") {
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1)
        return bad("serviceLevelTarget must be a number from 0 to 1");
      c.service_level_target = v.get<double>();
    } else if (key == "skillSteps") {
      if (!v.is_array())
        return bad("skillSteps must be an array of {afterSeconds, require}");
      for (auto& s : v) {
        if (!s.is_object())
          return bad("skillSteps: each step must be an object {afterSeconds, require}");
        skill_step step;
        for (auto& [k, x] : s.items()) {
          if (k == "afterSeconds") {
            if (auto e = whole(x, "skillSteps.afterSeconds", 0, year, &step.after_seconds); !e)
              return e;
          } else if (k == "require") {
            if (auto e = skill_levels(x, "skillSteps.require", &step.require); !e)
              return e;
          } else {
            return bad("skillSteps: unknown field '" + k + "'");
          }
        }
        if (!c.skill_steps.empty() && step.after_seconds <= c.skill_steps.back().after_seconds)
          return bad("skillSteps: afterSeconds must increase from step to step");
        c.skill_steps.push_back(std::move(step));
      }
    } else if (key == "preferLastAgentSeconds") {
      st = whole(v, "preferLastAgentSeconds", 0, day, &c.prefer_last_agent_seconds);
    } else if (key == "hours") {
      if (!v.is_null()) {
        opening_hours h;
        if (auto e = parse_hours(v, &h); !e)
          return e;
        c.hours = std::move(h);
      }
    } else if (is_speech_field(key)) {
      st = parse_speech_field(key, v, &c.speech);
    } else if (key == "dispositions") {
      if (!v.is_array())
        return bad("dispositions must be an array of strings");
      for (auto& d : v) {
        std::string word = d.is_string() ? d.get<std::string>() : std::string{};
        bool ok = !word.empty() && word.size() <= 64;
        for (unsigned char ch : word)
          ok = ok && ch >= 0x20 && ch != 0x7f;
        if (!ok)
          return bad("dispositions: each must be a string of 1-64 characters, no control characters");
        if (std::find(c.dispositions.begin(), c.dispositions.end(), word) != c.dispositions.end())
          return bad("dispositions: '" + word + "' is listed twice");
        c.dispositions.push_back(word);
      }
      if (c.dispositions.size() > 50)
        return bad("dispositions: at most 50");
    } else if (key == "screenPopUrl") {
      if (!v.is_string())
        return bad("screenPopUrl must be a string");
      c.screen_pop_url = v.get<std::string>();
      static const std::regex url("^https?://[^\\s/?#]+[^\\s]*$", std::regex::icase);
      if (!c.screen_pop_url.empty() &&
          (c.screen_pop_url.size() > 2000 || !std::regex_match(c.screen_pop_url, url)))
        return bad("screenPopUrl must be an http:// or https:// URL (at most 2,000 characters)");
    } else {
      return bad("unknown field '" + key + "'");
    }
    if (!st)
      return st;
  }
  if (c.overflow_after_seconds > 0 && c.overflow_queue.empty())
    return bad("overflowAfterSeconds needs an overflowQueue");
  if (c.when_full == full_action::overflow && c.overflow_queue.empty())
    return bad("whenFull \"overflow\" needs an overflowQueue");
  *out = std::move(c);
  return status::ok();
}

status parse_queue_config(const std::string& text, queue_config* out) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded())
    return bad("the queue configuration is not valid JSON");
  return parse_queue_config(j, out);
}

json to_json(const queue_config& c) {
  json steps = json::array();
  for (auto& s : c.skill_steps)
    steps.push_back({{"afterSeconds", s.after_seconds}, {"require", s.require}});
  json hours = nullptr;
  if (c.hours) {
    json weekly = json::object();
    for (int d = 0; d < 7; ++d) {
      if (c.hours->weekly[d].empty())
        continue;
      json ranges = json::array();
      for (auto& iv : c.hours->weekly[d]) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", iv.from_minute / 60,
                      iv.from_minute % 60, iv.to_minute / 60, iv.to_minute % 60);
        ranges.push_back(buf);
      }
      weekly[day_key(d)] = ranges;
    }
    hours = {{"timezone", c.hours->timezone},
             {"weekly", weekly},
             {"closedDates", c.hours->closed_dates},
             {"closedMessage", c.hours->closed_message},
             {"closedAction", closed_action_name(c.hours->action)}};
  }
  json out = {{"strategy", strategy_name(c.strategy)},
          {"ringAllMax", c.ring_all_max},
          {"maxWaiting", c.max_waiting},
          {"whenFull", full_action_name(c.when_full)},
          {"joinWhenNoAgents", c.join_when_no_agents},
          {"overflowAfterSeconds", c.overflow_after_seconds},
          {"overflowQueue", c.overflow_queue},
          {"serviceLevelSeconds", c.service_level_seconds},
          {"serviceLevelTarget", c.service_level_target},
          {"skillSteps", steps},
          {"preferLastAgentSeconds", c.prefer_last_agent_seconds},
          {"hours", hours}};
  if (!c.dispositions.empty())
    out["dispositions"] = c.dispositions;
  if (!c.screen_pop_url.empty())
    out["screenPopUrl"] = c.screen_pop_url;
  speech_to_json(c.speech, &out);
  return out;
}

std::string screen_pop_url(const queue_config& c, const std::string& from,
                           const std::string& call_sid, const std::string& queue,
                           const std::string& name) {
  const std::pair<const char*, const std::string*> fills[] = {
      {"{from}", &from}, {"{callSid}", &call_sid}, {"{queue}", &queue}, {"{name}", &name}};
  std::string out;
  const std::string& t = c.screen_pop_url;
  for (size_t i = 0; i < t.size();) {
    bool filled = false;
    for (auto& [key, value] : fills) {
      size_t n = std::char_traits<char>::length(key);
      if (t.compare(i, n, key) == 0) {
        out += form_encode(*value);
        i += n;
        filled = true;
        break;
      }
    }
    if (!filled)
      out.push_back(t[i++]);
  }
  return out;
}

requirement requirement_at(const std::vector<skill_step>& steps, int64_t waited_seconds,
                           const std::map<std::string, int64_t>* first_override) {
  requirement r;
  if (first_override != nullptr && first_override->empty())
    first_override = nullptr;
  if (steps.empty()) {
    if (first_override != nullptr) {
      r.step = 0;
      r.require = *first_override;
    }
    return r;
  }
  size_t i = 0;
  for (; i < steps.size() && steps[i].after_seconds <= waited_seconds; ++i)
    r.step = static_cast<int64_t>(i);
  if (r.step >= 0)
    r.require = r.step == 0 && first_override != nullptr ? *first_override
                                                         : steps[static_cast<size_t>(r.step)].require;
  if (i < steps.size())
    r.next_after_seconds = steps[i].after_seconds;
  return r;
}

bool meets_requirement(const std::map<std::string, int64_t>& skills,
                       const std::map<std::string, int64_t>& require) {
  for (auto& [skill, level] : require) {
    auto has = skills.find(skill);
    if (has == skills.end() || has->second < level)
      return false;
  }
  return true;
}

std::string overflow_loop(const std::string& name, const queue_config& config,
                          const std::map<std::string, queue_config>& others) {
  std::vector<std::string> path{name};
  std::set<std::string> seen{name};
  const queue_config* at = &config;
  while (at != nullptr && !at->overflow_queue.empty()) {
    const std::string& next = at->overflow_queue;
    path.push_back(next);
    if (!seen.insert(next).second) {
      std::string text;
      for (auto& q : path)
        text += (text.empty() ? "" : " -> ") + q;
      return text;
    }
    auto i = others.find(next);
    at = i == others.end() ? nullptr : &i->second;
  }
  return {};
}

status parse_skill_list(const std::string& text, std::map<std::string, int64_t>* out) {
  out->clear();
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto colon = item.find(':');
    std::string skill = item.substr(0, colon);
    int64_t level = 1;
    if (colon != std::string::npos) {
      std::string n = item.substr(colon + 1);
      if (n.empty() || n.size() > 2 || n.find_first_not_of("0123456789") != std::string::npos)
        return bad("skills: level of '" + skill + "' must be 1-10");
      level = std::stoll(n);
    }
    if (!valid_skill_name(skill))
      return bad("skills: invalid skill name '" + skill + "'");
    if (level < 1 || level > 10)
      return bad("skills: level of '" + skill + "' must be 1-10");
    (*out)[skill] = level;
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return status::ok();
}

}  // namespace callq
