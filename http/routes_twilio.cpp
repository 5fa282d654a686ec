// The routes Twilio calls: its signed webhooks (README, "Signatures").
#include "http/server.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <optional>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/dispatcher/queue_config.hpp"
#include "events/codec.hpp"
#include "http/bodies.hpp"
#include "http/form.hpp"
#include "http/metrics.hpp"
#include "http/routes_common.hpp"
#include "http/signature.hpp"
#include "http/web_assets.hpp"
#include "replay/export.hpp"
#include "replay/report.hpp"
#include "actors/world/status_json.hpp"
#include "replay/timeline.hpp"

namespace callq::http {

void server::twilio_routes() {
  auto& h = *http_;


  // ------------------------------------------------ Twilio webhooks --
  // Reads the body, parses it as a form, checks the signature, requires
  // CallSid. Returns false (with the response set) when the request must
  // be refused. The route reads its body itself: cpp-httplib would
  // otherwise also parse a form body into req.params (a decoded copy of
  // every field, 17k instructions per webhook, never used: the fields are
  // parsed once, here, and req.params keeps the query's parameters only).
  auto check_webhook = [this](const httplib::Request& req, httplib::Response& res,
                              const httplib::ContentReader& read, webhook* w) {
    auto ct = req.get_header_value("Content-Type");
    bool form = ct.rfind("application/x-www-form-urlencoded", 0) == 0;
    std::string body;
    if (req.is_multipart_form_data()) {
      // Not read (cpp-httplib would parse its parts): refused unless empty.
      auto length = req.get_header_value("Content-Length");
      if (req.has_header("Transfer-Encoding") || (!length.empty() && length != "0")) {
        send_error_text(res, 400, "body must be application/x-www-form-urlencoded");
        return false;
      }
    } else if (!read([&](const char* data, size_t n) {
                 body.append(data, n);
                 return true;
               })) {
      bool too_large = res.status == 413;
      send_error_text(res, too_large ? 413 : 400, too_large ? "body too large" : "unreadable body");
      return false;
    }
    if (!body.empty() && !form) {
      send_error_text(res, 400, "body must be application/x-www-form-urlencoded");
      return false;
    }
    if (auto st = parse_form(body, &w->fields); !st) {
      send_error_text(res, 400, st.message());
      return false;
    }
    if (!s_.twilio_auth_token.empty()) {
      std::string given = req.get_header_value("X-Twilio-Signature");
      if (!twilio_signature_valid(s_.twilio_auth_token, s_.public_base_url + req.target,
                                  w->fields, given)) {
        send_error_text(res, 403, given.empty() ? "missing X-Twilio-Signature"
                                                : "invalid X-Twilio-Signature");
        return false;
      }
    }
    w->call_sid = field(w->fields, "CallSid");
    if (w->call_sid.empty()) {
      send_error_text(res, 400, "missing CallSid");
      return false;
    }
    auto token = req.get_header_value("I-Twilio-Idempotency-Token");
    if (!token.empty())
      w->idempotency_key = req.path + "|" + token;
    return true;
  };

  auto answer = [this](httplib::Response& res, const reply& r) {
    if (r.failed()) {
      send_error_text(res, status_code(r.result), r.reason);
      return;
    }
    res.status = 200;
    // The caller's queue's voice, language and wording for its language.
    res.set_content(caller_twiml(r.is_voice() ? r.voice() : voice_reply{}), "text/xml");
  };

  // Registers a webhook: `build` turns the checked request into a command,
  // or returns a reason to refuse it with 400.
  using builder = std::function<std::string(const httplib::Request&, const webhook&, cmd::command*)>;
  auto hook = [&, this](const char* name, builder build) {
    std::string path = std::string("/api/webhooks/twilio/") + name;
    h.Post(path, [this, check_webhook, answer, build](const httplib::Request& req, httplib::Response& res,
                                                      const httplib::ContentReader& read) {
      webhook w;
      if (!check_webhook(req, res, read, &w))
        return;
      cmd::command c;
      if (auto why = build(req, w, &c); !why.empty()) {
        send_error_text(res, 400, why);
        return;
      }
      answer(res, rt_.ask(std::move(c), w.idempotency_key));
    });
  };
  auto query = &query_value;

  hook("voice", [this, query](const httplib::Request& req, const webhook& w, cmd::command* c) {
    cmd::incoming_call x;
    x.call_sid = w.call_sid;
    x.from = field(w.fields, "From");
    x.to = field(w.fields, "To");
    x.queue = req.has_param("queue") ? query(req, "queue") : s_.default_queue;
    if (!valid_queue(x.queue))
      return std::string("queue must be 1-64 letters, digits, '.', '_' or '-'");
    if (req.has_param("priority")) {
      int64_t p = 0;
      if (!parse_int(query(req, "priority"), &p) || p < -1000 || p > 1000)
        return std::string("priority must be an integer from -1000 to 1000");
      x.priority = p;
    }
    if (req.has_param("skills"))
      if (auto st = parse_skill_list(query(req, "skills"), &x.skills); !st)
        return st.message();
    if (req.has_param("lang")) {
      x.language = query(req, "lang");
      if (!valid_language_tag(x.language))
        return std::string("lang must be a BCP 47 language tag such as es-ES");
    }
    *c = x;
    return std::string();
  });
  hook("queue-hold-music", [](const httplib::Request&, const webhook& w, cmd::command* c) {
    *c = cmd::hold_poll{w.call_sid};
    return std::string();
  });
  hook("callback-response", [](const httplib::Request&, const webhook& w, cmd::command* c) {
    *c = cmd::callback_response{w.call_sid, field(w.fields, "Digits")};
    return std::string();
  });
  hook("queue-handler", [](const httplib::Request&, const webhook& w, cmd::command* c) {
    auto result = field(w.fields, "QueueResult");
    if (result.empty())
      return std::string("missing QueueResult");
    *c = cmd::queue_left{w.call_sid, result};
    return std::string();
  });
  auto offer_of = [query](const httplib::Request& req, std::string* offer) {
    *offer = query(req, "offer");
    return offer->empty() ? std::string("missing offer") : std::string();
  };
  hook("connect-agent", [offer_of](const httplib::Request& req, const webhook&, cmd::command* c) {
    std::string offer;
    if (auto why = offer_of(req, &offer); !why.empty())
      return why;
    *c = cmd::connect_agent{offer};
    return std::string();
  });
  hook("agent-leg-status", [offer_of, query](const httplib::Request& req, const webhook& w, cmd::command* c) {
    std::string offer;
    if (auto why = offer_of(req, &offer); !why.empty())
      return why;
    std::string agent = query(req, "agent");
    if (!agent.empty() && !valid_id(agent))
      return std::string("agent must be an agent id");
    *c = cmd::agent_leg_status{offer, field(w.fields, "CallStatus"), agent};
    return std::string();
  });
  hook("dial-result", [offer_of](const httplib::Request& req, const webhook& w, cmd::command* c) {
    std::string offer;
    if (auto why = offer_of(req, &offer); !why.empty())
      return why;
    int64_t duration = 0;
    auto d = field(w.fields, "DialCallDuration");
    if (!d.empty() && !parse_int(d, &duration))
      return std::string("DialCallDuration must be a whole number");
    auto status = field(w.fields, "DialCallStatus");
    if (status.empty())
      return std::string("missing DialCallStatus");
    *c = cmd::dial_result{offer, status, field(w.fields, "CallStatus"), duration};
    return std::string();
  });
  hook("call-status", [](const httplib::Request&, const webhook& w, cmd::command* c) {
    *c = cmd::call_status{w.call_sid, field(w.fields, "CallStatus")};
    return std::string();
  });
  hook("callback-connect", [query](const httplib::Request& req, const webhook& w, cmd::command* c) {
    auto id = query(req, "callback");
    if (id.empty())
      return std::string("missing callback");
    *c = cmd::callback_connect{id, w.call_sid};
    return std::string();
  });
  hook("callback-result", [query](const httplib::Request& req, const webhook& w, cmd::command* c) {
    auto id = query(req, "callback");
    if (id.empty())
      return std::string("missing callback");
    int64_t duration = 0;
    auto d = field(w.fields, "DialCallDuration");
    if (!d.empty() && !parse_int(d, &duration))
      return std::string("DialCallDuration must be a whole number");
    *c = cmd::callback_result{id, field(w.fields, "DialCallStatus"), duration};
    return std::string();
  });
}

}  // namespace callq::http
