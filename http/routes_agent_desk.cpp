// The routes of the agent page (README, "Agent page"): the agent's own
// view and live stream, its softphone's voice token, and its wrap-up.
// Every one takes the agent's own token and acts on that agent only.
#include "http/server.hpp"

#include <chrono>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/world/agent_desk.hpp"
#include "events/sha256.hpp"
#include "http/routes_common.hpp"

namespace callq::http {

namespace {

/// The agent token of a request: `Authorization: Bearer`, or `?token=`
/// for the browser's EventSource.
std::string agent_token(const httplib::Request& req) {
  std::string token = bearer(req);
  if (token.empty() && req.has_param("token"))
    token = req.get_param_value("token");
  return token;
}

}  // namespace

void server::agent_desk_routes() {
  auto& h = *http_;
  // The agent a request's token belongs to; answers 401 when none does
  // (a token never issued, or its agent was removed).
  auto signed_in = [this](const httplib::Request& req, httplib::Response& res,
                          std::string* agent_id, std::string* token_hash) {
    std::string token = agent_token(req);
    if (token.empty()) {
      send_error_json(res, 401, "missing agent token");
      return false;
    }
    *token_hash = events::sha256_hex(token);
    *agent_id = rt_.reads().read([&](const world& w) {
      const agent_state* a = w.agent_by_token(*token_hash);
      return a != nullptr ? a->id : std::string{};
    });
    if (agent_id->empty()) {
      send_error_json(res, 401, "invalid agent token (or the agent was removed)");
      return false;
    }
    return true;
  };
  // The agent's view, or null when it is gone.
  auto desk = [this](const std::string& id) {
    int64_t now = rt_.now_ms();
    return rt_.reads().read([&](const world& w) -> json {
      const agent_state* a = w.find_agent(id);
      return a != nullptr && a->exists() ? agent_desk_json(w, *a, now, s_.pause_reasons) : json();
    });
  };

  h.Get("/api/agent/me", [signed_in, desk](const httplib::Request& req, httplib::Response& res) {
    std::string id, hash;
    if (!signed_in(req, res, &id, &hash))
      return;
    json me = desk(id);
    if (me.is_null())
      return send_error_json(res, 401, "the agent was removed");
    send_json(res, 200, me);
  });

  // The agent's live view: a snapshot, then an update whenever it changed;
  // `event: signed-out` and the end when the agent is removed.
  h.Get("/api/agent/stream", [this, signed_in, desk](const httplib::Request& req,
                                                     httplib::Response& res) {
    std::string id, hash;
    if (!signed_in(req, res, &id, &hash))
      return;
    auto last = std::make_shared<std::string>();  // the view sent last, counters left out
    live_stream(res, [id, desk, last](uint64_t, bool first) -> stream_step {
      json me = desk(id);
      if (me.is_null())
        return {"event: signed-out\ndata: {}\n\n", true};
      // Seconds that only count up are left out of the comparison: an
      // update goes out when something happened.
      json key = me;
      for (const char* k : {"offer", "call"})
        if (key[k].is_object())
          key[k].erase("waitSeconds");
      if (key["wrapUp"].is_object())
        key["wrapUp"].erase("secondsLeft");
      std::string text = key.dump();
      if (!first && text == *last)
        return {};
      *last = std::move(text);
      return {std::string(first ? "retry: 1000\n" : "") + "event: " + (first ? "snapshot" : "update") +
              "\ndata: " + me.dump() + "\n\n"};
    });
  });

  h.Post("/api/agent/voice-token", [this, signed_in](const httplib::Request& req,
                                                     httplib::Response& res) {
    std::string id, hash;
    if (!signed_in(req, res, &id, &hash))
      return;
    if (!s_.voice.enabled())
      return send_error_json(res, 503,
                             "the softphone is off: set TWILIO_ACCOUNT_SID, TWILIO_API_KEY_SID, "
                             "TWILIO_API_KEY_SECRET and TWILIO_TWIML_APP_SID");
    std::string identity = rt_.reads().read([&](const world& w) {
      const agent_state* a = w.find_agent(id);
      return a == nullptr ? std::string{} : a->identity.empty() ? a->id : a->identity;
    });
    int64_t now = rt_.now_ms() / 1000;
    send_json(res, 200, {{"token", voice_access_token(s_.voice, identity, now)},
                         {"identity", identity},
                         {"ttlSeconds", s_.voice.ttl_seconds}});
  });

  h.Post("/api/agent/wrap-up", [this, signed_in](const httplib::Request& req,
                                                 httplib::Response& res) {
    std::string id, hash;
    if (!signed_in(req, res, &id, &hash))
      return;
    json body;
    if (!json_object_body(req, res, &body))
      return;
    cmd::wrap_up w;
    w.agent_id = id;
    w.token_hash = hash;
    for (auto& [key, v] : body.items()) {
      if (key == "callSid" || key == "disposition" || key == "notes") {
        if (!v.is_string())
          return send_error_json(res, 400, key + " must be a string");
        (key == "callSid" ? w.call_sid : key == "disposition" ? w.disposition : w.notes) =
            v.get<std::string>();
      } else if (key == "ready") {
        if (!v.is_boolean())
          return send_error_json(res, 400, "ready must be true or false");
        w.ready = v.get<bool>();
      } else {
        return send_error_json(res, 400, "unknown field '" + key + "'");
      }
    }
    if (w.call_sid.empty())
      return send_error_json(res, 400, "callSid must name the agent's last call");
    // Characters, not bytes: a note in any script gets the same room.
    size_t chars = 0;
    for (unsigned char ch : w.notes)
      chars += (ch & 0xC0) != 0x80;
    if (chars > 2000)
      return send_error_json(res, 400, "notes: at most 2,000 characters");
    auto r = rt_.ask(std::move(w));
    if (r.failed())
      return send_error_json(res, status_code(r.result), r.reason);
    const auto& a = std::get<agent_answer>(r.body);
    send_json(res, 200, {{"agentId", a.agent_id}, {"state", a.state}, {"readiness", a.readiness}});
  });
}

}  // namespace callq::http
