#include "http/bodies.hpp"

#include <algorithm>
#include <cctype>

#include "actors/dispatcher/queue_config.hpp"
#include "events/codec.hpp"

#include <nlohmann/json.hpp>

namespace callq::http {

using json = nlohmann::json;

namespace {

status object_body(std::string_view text, bool empty_ok, json* out) {
  *out = empty_ok && text.empty() ? json::object() : json::parse(text, nullptr, false);
  if (out->is_discarded() || !out->is_object())
    return status::invalid_argument("body must be a JSON object");
  return status::ok();
}

bool string_list(const json& j, const char* key, std::vector<std::string>* out) {
  auto i = j.find(key);
  if (i == j.end())
    return true;
  if (!i->is_array())
    return false;
  for (auto& v : *i) {
    if (!v.is_string())
      return false;
    out->push_back(v.get<std::string>());
  }
  return true;
}

}  // namespace

bool valid_id(const std::string& s) {
  // Loops, not std::regex (as valid_queue_name): checked on every request.
  if (s.empty() || s.size() > 64)
    return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '.' && c != '_' && c != '@' && c != '-')
      return false;
  return true;
}

bool valid_queue(const std::string& s) { return valid_queue_name(s); }

bool valid_e164(const std::string& s) {
  if (s.size() < 3 || s.size() > 16 || s[0] != '+' || s[1] == '0')
    return false;
  for (size_t i = 1; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
  return true;
}

status parse_heartbeat_body(std::string_view text, cmd::heartbeat* out) {
  json body;
  if (auto st = object_body(text, false, &body); !st)
    return st;
  auto id = body.find("agentId");
  auto st = body.find("status");
  auto dev = body.find("deviceRegistered");
  if (id == body.end() || !id->is_string() || id->get<std::string>().empty())
    return status::invalid_argument("agentId must be a non-empty string");
  if (st == body.end() || !st->is_string())
    return status::invalid_argument("status must be one of available, busy, break, offline");
  std::string s = st->get<std::string>();
  if (s != "available" && s != "busy" && s != "break" && s != "offline")
    return status::invalid_argument("unknown status '" + s + "' (available, busy, break or offline)");
  if (dev != body.end() && !dev->is_boolean())
    return status::invalid_argument("deviceRegistered must be true or false");
  auto reason = body.find("reason");
  if (reason != body.end() && !reason->is_string() && !reason->is_null())
    return status::invalid_argument("reason must be a string");
  *out = cmd::heartbeat{id->get<std::string>(), "", s, std::nullopt};
  if (dev != body.end())
    out->device_registered = dev->get<bool>();
  if (reason != body.end() && reason->is_string())
    out->reason = reason->get<std::string>();
  return status::ok();
}

status parse_agent_body(std::string_view text, const std::string& id,
                        const std::string& default_queue, cmd::put_agent* out) {
  json body;
  if (auto st = object_body(text, true, &body); !st)
    return st;
  cmd::put_agent x;
  x.agent_id = id;
  for (auto [key, target] : {std::pair{"name", &x.display_name}, std::pair{"clientIdentity", &x.client_identity}}) {
    auto i = body.find(key);
    if (i != body.end() && !i->is_string())
      return status::invalid_argument(std::string(key) + " must be a string");
    *target = i != body.end() ? i->get<std::string>() : id;
  }
  if (x.client_identity.empty() || x.client_identity.size() > 256)
    return status::invalid_argument("clientIdentity must be 1-256 characters");
  // queues: names, or {"name": ..., "penalty": N} for a member with a
  // penalty.
  if (auto q = body.find("queues"); q != body.end()) {
    if (!q->is_array())
      return status::invalid_argument("queues must be an array of names or {\"name\",\"penalty\"}");
    for (auto& v : *q) {
      std::string name;
      int64_t penalty = 0;
      if (v.is_string()) {
        name = v.get<std::string>();
      } else if (v.is_object()) {
        for (auto& [k, f] : v.items())
          if (k != "name" && k != "penalty")
            return status::invalid_argument("queues: unknown field '" + k + "'");
        auto n = v.find("name");
        auto p = v.find("penalty");
        if (n == v.end() || !n->is_string())
          return status::invalid_argument("queues: each object needs a \"name\" string");
        name = n->get<std::string>();
        if (p != v.end()) {
          if (!p->is_number_integer() || p->get<int64_t>() < 0 || p->get<int64_t>() > 1000)
            return status::invalid_argument("queues: penalty of '" + name +
                                            "' must be a whole number from 0 to 1000");
          penalty = p->get<int64_t>();
        }
      } else {
        return status::invalid_argument("queues must be an array of names or {\"name\",\"penalty\"}");
      }
      if (!valid_queue(name))
        return status::invalid_argument("invalid queue name '" + name + "'");
      if (std::find(x.queues.begin(), x.queues.end(), name) != x.queues.end())
        return status::invalid_argument("queue '" + name + "' is listed twice");
      x.queues.push_back(name);
      if (penalty != 0)
        x.penalties[name] = penalty;
    }
  }
  // skills: names (level 1), or {"es": 5, "billing": 2} (levels 1-10).
  if (auto sk = body.find("skills"); sk != body.end()) {
    if (sk->is_object()) {
      for (auto& [name, level] : sk->items()) {
        if (!valid_skill_name(name))
          return status::invalid_argument("invalid skill name '" + name + "' (1-64 characters, no ',' or ':')");
        if (!level.is_number_integer() || level.get<int64_t>() < 1 || level.get<int64_t>() > 10)
          return status::invalid_argument("skills: level of '" + name + "' must be a whole number from 1 to 10");
        x.skills.push_back(name);
        x.skill_levels[name] = level.get<int64_t>();
      }
    } else if (string_list(body, "skills", &x.skills)) {
      for (auto& name : x.skills) {
        if (!valid_skill_name(name))
          return status::invalid_argument("invalid skill name '" + name + "' (1-64 characters, no ',' or ':')");
        x.skill_levels[name] = 1;
      }
    } else {
      return status::invalid_argument("skills must be an array of names or an object of name -> level");
    }
  }
  if (x.queues.empty())
    x.queues.push_back(default_queue);
  *out = std::move(x);
  return status::ok();
}

status parse_caller_body(std::string_view text, const std::string& number, cmd::put_caller* out) {
  json body;
  if (auto st = object_body(text, false, &body); !st)
    return st;
  auto name = body.find("name");
  auto prio = body.find("priority");
  if (name != body.end() && !name->is_string())
    return status::invalid_argument("name must be a string");
  if (prio != body.end() && !prio->is_number_integer())
    return status::invalid_argument("priority must be an integer");
  auto lang = body.find("language");
  if (lang != body.end() && !lang->is_null() &&
      (!lang->is_string() || (!lang->get<std::string>().empty() && !valid_language_tag(lang->get<std::string>()))))
    return status::invalid_argument("language must be a BCP 47 language tag such as es-ES");
  *out = cmd::put_caller{number, name != body.end() ? name->get<std::string>() : "",
                         prio != body.end() ? prio->get<int64_t>() : 0,
                         lang != body.end() && lang->is_string() ? lang->get<std::string>() : ""};
  return status::ok();
}

status parse_callback_body(std::string_view text, const std::string& default_queue,
                           cmd::schedule_callback* out) {
  json body;
  if (auto st = object_body(text, false, &body); !st)
    return st;
  cmd::schedule_callback x;
  x.queue = default_queue;
  for (auto& [key, value] : body.items()) {
    if (key != "number" && key != "queue" && key != "at" && key != "name")
      return status::invalid_argument("unknown field '" + key +
                                      "' (allowed: number, queue, at, name)");
    if (!value.is_string())
      return status::invalid_argument(key + " must be a string");
  }
  auto number = body.find("number");
  if (number == body.end())
    return status::invalid_argument("number is required (E.164, such as +15551234567)");
  x.number = number->get<std::string>();
  if (!valid_e164(x.number))
    return status::invalid_argument("number must be an E.164 number such as +15551234567, not '" +
                                    x.number + "'");
  if (auto q = body.find("queue"); q != body.end()) {
    x.queue = q->get<std::string>();
    if (!valid_queue(x.queue))
      return status::invalid_argument("queue must be 1-64 letters, digits, '.', '_' or '-'");
  }
  if (auto at = body.find("at"); at != body.end())
    if (auto st = events::parse_iso8601(at->get<std::string>(), &x.at_ms); !st)
      return status::invalid_argument("at: " + st.message() +
                                      " (use e.g. 2026-11-26T15:00:00Z)");
  if (auto name = body.find("name"); name != body.end()) {
    x.name = name->get<std::string>();
    if (x.name.size() > 200)
      return status::invalid_argument("name must be at most 200 characters");
  }
  *out = std::move(x);
  return status::ok();
}

}  // namespace callq::http
