// What the route files of the HTTP server share (not part of its
// interface): answering JSON and text, reading a bearer token, numbers and
// bodies, the checked form of a Twilio webhook, and the HTTP status of a
// command's outcome. The routes are split by who calls them: Twilio
// (routes_twilio.cpp), agents' softphones (routes_agents.cpp), operators
// and their tools (routes_admin.cpp), browsers and health checks
// (routes_pages.cpp).
#pragma once

#include <cctype>
#include <cstdint>
#include <limits>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/replies.hpp"
#include "http/form.hpp"

namespace callq::http {

using nlohmann::json;

inline void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

/// A 503 says when to try again: a follower's, a full disk's, a busy
/// moment's all pass within seconds.
inline void retry_after(httplib::Response& res, int status) {
  if (status == 503 && !res.has_header("Retry-After"))
    res.set_header("Retry-After", "1");
}

inline void send_error_json(httplib::Response& res, int status, const std::string& why) {
  retry_after(res, status);
  send_json(res, status, {{"error", why}});
}

inline void send_error_text(httplib::Response& res, int status, const std::string& why) {
  retry_after(res, status);
  res.status = status;
  res.set_content(why + "\n", "text/plain");
}

inline std::string bearer(const httplib::Request& req) {
  auto h = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (h.size() <= prefix.size() || h.compare(0, prefix.size(), prefix) != 0)
    return {};
  return h.substr(prefix.size());
}

inline bool parse_int(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 18)
    return false;
  size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size())
    return false;
  for (size_t j = i; j < s.size(); ++j)
    if (!std::isdigit(static_cast<unsigned char>(s[j])))
      return false;
  *out = std::stoll(s);
  return true;
}

/// `?waiting=N` (0-100000): how many waiting calls per queue a status
/// lists; absent: all. On failure answers 400 and returns false.
inline bool waiting_limit(const httplib::Request& req, httplib::Response& res, size_t* out) {
  *out = std::numeric_limits<size_t>::max();
  if (!req.has_param("waiting"))
    return true;
  int64_t n = 0;
  if (!parse_int(req.get_param_value("waiting"), &n) || n < 0 || n > 100000) {
    send_error_json(res, 400, "waiting must be a whole number from 0 to 100000");
    return false;
  }
  *out = static_cast<size_t>(n);
  return true;
}

/// Parses a JSON object body into `*out`; an empty body is `{}` when
/// `empty_ok`. On failure answers 400 and returns false.
inline bool json_object_body(const httplib::Request& req, httplib::Response& res, json* out,
                      bool empty_ok = false) {
  *out = empty_ok && req.body.empty() ? json::object() : json::parse(req.body, nullptr, false);
  if (out->is_discarded() || !out->is_object()) {
    send_error_json(res, 400, "body must be a JSON object");
    return false;
  }
  return true;
}

/// A Twilio webhook after the checks every one of them needs.
struct webhook {
  form_fields fields;
  std::string call_sid;
  std::string idempotency_key;
};

/// The HTTP status for how a command ended.
inline int status_code(outcome o) {
  switch (o) {
    case outcome::ok: return 200;
    case outcome::created: return 201;
    case outcome::invalid: return 400;
    case outcome::unauthorized: return 401;
    case outcome::forbidden: return 403;
    case outcome::not_found: return 404;
    case outcome::conflict: return 409;
    case outcome::unavailable: return 503;
  }
  return 500;
}


/// A query parameter, or "" when absent.
inline std::string query_value(const httplib::Request& req, const char* key) {
  return req.has_param(key) ? req.get_param_value(key) : std::string();
}

}  // namespace callq::http
