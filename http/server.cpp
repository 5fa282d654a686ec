#include "http/server.hpp"

#include <chrono>
#include <thread>
#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <regex>
#include <sys/socket.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/dispatcher/queue_config.hpp"
#include "events/codec.hpp"
#include "http/bodies.hpp"
#include "http/form.hpp"
#include "http/metrics.hpp"
#include "http/signature.hpp"
#include "http/web_assets.hpp"
#include "replay/export.hpp"
#include "replay/report.hpp"
#include "replay/status_json.hpp"
#include "replay/timeline.hpp"

namespace callq::http {

using nlohmann::json;

namespace {

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

/// A 503 says when to try again: a follower's, a full disk's, a busy
/// moment's all pass within seconds.
void retry_after(httplib::Response& res, int status) {
  if (status == 503 && !res.has_header("Retry-After"))
    res.set_header("Retry-After", "1");
}

void send_error_json(httplib::Response& res, int status, const std::string& why) {
  retry_after(res, status);
  send_json(res, status, {{"error", why}});
}

void send_error_text(httplib::Response& res, int status, const std::string& why) {
  retry_after(res, status);
  res.status = status;
  res.set_content(why + "\n", "text/plain");
}

std::string bearer(const httplib::Request& req) {
  auto h = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (h.size() <= prefix.size() || h.compare(0, prefix.size(), prefix) != 0)
    return {};
  return h.substr(prefix.size());
}

bool parse_int(const std::string& s, int64_t* out) {
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
bool waiting_limit(const httplib::Request& req, httplib::Response& res, size_t* out) {
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
bool json_object_body(const httplib::Request& req, httplib::Response& res, json* out,
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


}  // namespace

namespace {

/// cpp-httplib's server with its request processing opened up: the front
/// door hands it one complete, buffered request at a time.
/// Its content providers (chunked exports, streams) run while the
/// library believes it listens; `serving(false)` ends them at shutdown.
/// Its own listen() and stop() are never called.
class routes_only : public httplib::Server {
 public:
  routes_only() { serving(true); }
  using httplib::Server::process_request;
  void serving(bool on) { svr_sock_ = on ? std::numeric_limits<socket_t>::max() : INVALID_SOCKET; }
};

}  // namespace

server::server(runtime& rt, server_settings settings)
    : rt_(rt), s_(std::move(settings)), http_(std::make_unique<routes_only>()) {
  // cpp-httplib's own settings where they apply to a buffered request:
  // the body limit (413) and what the Keep-Alive header announces.
  const auto& lim = s_.limits;
  http_->set_payload_max_length(lim.max_body_bytes);
  http_->set_keep_alive_timeout(std::max<time_t>(1, static_cast<time_t>(lim.idle_timeout_ms / 1000)));
  http_->set_keep_alive_max_count(lim.keep_alive_max_requests);
  auto* engine = static_cast<routes_only*>(http_.get());
  door_ = std::make_unique<front_door>(
      lim,
      [engine](httplib::Stream& strm, bool close_connection, bool& connection_closed) {
        return engine->process_request(strm, close_connection, connection_closed, nullptr);
      },
      // Requests waiting for a thread are load too: the runtime refuses
      // new calls and holds heartbeat expiry while they wait.
      [gauge = &rt_.load()](int64_t twilio_wait_ms, int64_t agent_wait_ms) {
        gauge->requests_waited(twilio_wait_ms * 1000, agent_wait_ms * 1000);
      });
  routes();
}

server::~server() = default;

status server::bind(int* port) { return door_->bind(s_.bind, s_.port, port); }

void server::run() { door_->run(); }

void server::stop() {
  stopping_->store(true);  // open streams end, so their threads come back
  door_->stop();
  static_cast<routes_only*>(http_.get())->serving(false);
}

front_door_figures server::door_figures() const { return door_->figures(); }

std::shared_ptr<const std::string> server::live_status(uint64_t seq, size_t waiting_limit) {
  std::lock_guard<std::mutex> lock(live_->mu);  // one stream renders, the others wait for it
  // A few limits are in use at once (the wallboard's, a full list); a
  // client asking for many different ones must not grow this without end.
  if (live_->by_limit.size() >= 4 && !live_->by_limit.count(waiting_limit))
    live_->by_limit.clear();
  auto& [at, text] = live_->by_limit[waiting_limit];
  if (!text || at != seq) {
    int64_t now = rt_.now_ms();
    auto view = rt_.reads().read([&](const world& w) { return w.status(now, waiting_limit); });
    text = std::make_shared<const std::string>(replay::status_to_json(view).dump());
    at = seq;
  }
  return text;
}

namespace {

/// The HTTP status for how a command ended.
int status_code(outcome o) {
  switch (o) {
    case outcome::ok: return 200;
    case outcome::created: return 201;
    case outcome::invalid: return 400;
    case outcome::unauthorized: return 401;
    case outcome::not_found: return 404;
    case outcome::conflict: return 409;
    case outcome::unavailable: return 503;
  }
  return 500;
}

}  // namespace

void server::routes() {
  auto& h = *http_;

  // ------------------------------------------------ Twilio webhooks --
  // Parses the form body, checks the signature, requires CallSid. Returns
  // false (with the response set) when the request must be refused.
  auto check_webhook = [this](const httplib::Request& req, httplib::Response& res, webhook* w) {
    auto ct = req.get_header_value("Content-Type");
    if (!req.body.empty() && ct.rfind("application/x-www-form-urlencoded", 0) != 0) {
      send_error_text(res, 400, "body must be application/x-www-form-urlencoded");
      return false;
    }
    if (auto st = parse_form(req.body, &w->fields); !st) {
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
    res.set_content(render_twiml(r.is_voice() ? r.voice() : voice_reply{}, s_.twiml), "text/xml");
  };

  // Registers a webhook: `build` turns the checked request into a command,
  // or returns a reason to refuse it with 400.
  using builder = std::function<std::string(const httplib::Request&, const webhook&, cmd::command*)>;
  auto hook = [&, this](const char* name, builder build) {
    std::string path = std::string("/api/webhooks/twilio/") + name;
    h.Post(path, [this, check_webhook, answer, build](const httplib::Request& req, httplib::Response& res) {
      webhook w;
      if (!check_webhook(req, res, &w))
        return;
      cmd::command c;
      if (auto why = build(req, w, &c); !why.empty()) {
        send_error_text(res, 400, why);
        return;
      }
      answer(res, rt_.ask(std::move(c), w.idempotency_key));
    });
  };
  auto query = [](const httplib::Request& req, const char* key) {
    return req.has_param(key) ? req.get_param_value(key) : std::string();
  };

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
  hook("callback-connect", [query](const httplib::Request& req, const webhook&, cmd::command* c) {
    auto id = query(req, "callback");
    if (id.empty())
      return std::string("missing callback");
    *c = cmd::callback_connect{id};
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

  // ----------------------------------------------------------- agents --
  h.Post("/api/agent-heartbeat", [this](const httplib::Request& req, httplib::Response& res) {
    std::string token = bearer(req);
    if (token.empty())
      return send_error_json(res, 401, "missing bearer token");
    cmd::heartbeat hb;
    if (auto st = parse_heartbeat_body(req.body, &hb); !st)
      return send_error_json(res, 400, st.message());
    hb.token_hash = sha256_hex(token);
    auto r = rt_.ask(std::move(hb));
    if (r.failed())
      return send_error_json(res, status_code(r.result), r.reason);
    const auto& a = std::get<agent_answer>(r.body);
    send_json(res, 200, {{"agentId", a.agent_id},
                         {"state", a.state},
                         {"readiness", a.readiness},
                         {"heartbeatIntervalSeconds", a.heartbeat_interval_seconds}});
  });

  // ------------------------------------------------------------ admin --
  // Tokens are compared as SHA-256 digests in constant time.
  auto matches = [](const std::string& token, const std::string& expected) {
    return !token.empty() && !expected.empty() &&
           constant_time_equal(sha256_hex(token), sha256_hex(expected));
  };
  // Every admin path: the admin token; the viewer token is refused (403).
  auto admin = [this, matches](const httplib::Request& req, httplib::Response& res) {
    std::string token = bearer(req);
    if (matches(token, s_.admin_token))
      return true;
    if (matches(token, s_.viewer_token))
      send_error_json(res, 403, "the viewer token is read-only: this path needs the admin token");
    else
      send_error_json(res, 401, token.empty() ? "missing bearer token" : "invalid admin token");
    return false;
  };
  // Read-only data (the status view): the admin or the viewer token, as a
  // bearer token or, for the browser's EventSource, `?token=`.
  auto viewer = [this, matches](const httplib::Request& req, httplib::Response& res) {
    std::string token = bearer(req);
    if (token.empty() && req.has_param("token"))
      token = req.get_param_value("token");
    if (matches(token, s_.admin_token) || matches(token, s_.viewer_token))
      return true;
    send_error_json(res, 401, token.empty() ? "missing bearer token" : "invalid token");
    return false;
  };
  // Sends a failed reply as its error, else `body`.
  auto relay = [](httplib::Response& res, const reply& r, const json& body) {
    if (r.failed())
      send_error_json(res, status_code(r.result), r.reason);
    else
      send_json(res, status_code(r.result), body);
  };

  h.Put(R"(/api/agents/([^/]+))", [this, admin, relay](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    std::string id = req.matches[1];
    if (!valid_id(id))
      return send_error_json(res, 400, "agent id must be 1-64 letters, digits, '.', '_', '@' or '-'");
    cmd::put_agent x;
    if (auto st = parse_agent_body(req.body, id, s_.default_queue, &x); !st)
      return send_error_json(res, 400, st.message());
    std::string token = random_token();
    x.token_hash = sha256_hex(token);
    auto r = rt_.ask(std::move(x));
    if (r.result == outcome::created)
      return send_json(res, 201, {{"agentId", id}, {"token", token}});
    relay(res, r, {{"agentId", id}, {"created", false}});
  });
  h.Delete(R"(/api/agents/([^/]+))", [this, admin, relay](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    std::string id = req.matches[1];
    relay(res, rt_.ask(cmd::delete_agent{id}), {{"agentId", id}, {"removed", true}});
  });
  h.Put(R"(/api/callers/([^/]+))", [this, admin, relay](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    std::string number = req.matches[1];
    if (!valid_e164(number))
      return send_error_json(res, 400, "caller must be an E.164 number such as +15551234567");
    cmd::put_caller x;
    if (auto st = parse_caller_body(req.body, number, &x); !st)
      return send_error_json(res, 400, st.message());
    relay(res, rt_.ask(x), {{"number", x.number}, {"name", x.display_name}, {"priority", x.priority}});
  });
  // -------------------------------------------------------- callbacks --
  h.Post("/api/callbacks", [this, admin](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    cmd::schedule_callback x;
    if (auto st = parse_callback_body(req.body, s_.default_queue, &x); !st)
      return send_error_json(res, 400, st.message());
    auto r = rt_.ask(std::move(x));
    if (r.failed())
      return send_error_json(res, status_code(r.result), r.reason);
    const auto& a = std::get<callback_answer>(r.body);
    send_json(res, status_code(r.result), {{"callbackId", a.callback_id}, {"state", a.state}});
  });
  h.Get("/api/callbacks", [this, admin](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    std::optional<call_phase> phase;
    if (req.has_param("state")) {
      call_phase p;
      std::string word = req.get_param_value("state");
      if (!parse_callback_state(word, &p))
        return send_error_json(res, 400, "state must be scheduled, waiting, started, completed, "
                                         "failed or canceled, not '" + word + "'");
      phase = p;
    }
    json list = json::array();
    for (auto& cb : rt_.reads().read([&](const world& w) { return w.callbacks(phase); }))
      list.push_back(replay::callback_to_json(cb));
    send_json(res, 200, {{"callbacks", list}});
  });
  h.Delete(R"(/api/callbacks/([^/]+))", [this, admin](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    std::string id = req.matches[1];
    auto r = rt_.ask(cmd::cancel_callback{id});
    if (r.failed())
      return send_error_json(res, status_code(r.result), r.reason);
    const auto& a = std::get<callback_answer>(r.body);
    send_json(res, 200, {{"callbackId", a.callback_id}, {"state", a.state}});
  });
  // ----------------------------------------------------------- queues --
  h.Put(R"(/api/queues/([^/]+))", [this, admin](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    std::string name = req.matches[1];
    if (!valid_queue(name))
      return send_error_json(res, 400, "queue name must be 1-64 letters, digits, '.', '_' or '-'");
    queue_config c;
    if (auto st = parse_queue_config(req.body.empty() ? std::string("{}") : req.body, &c); !st)
      return send_error_json(res, 400, st.message());
    auto r = rt_.ask(cmd::put_queue{name, to_json(c).dump()});
    if (r.failed())
      return send_error_json(res, status_code(r.result), r.reason);
    const auto& a = std::get<queue_answer>(r.body);
    send_json(res, status_code(r.result), json::parse(a.config_json));
  });
  // One queue as GET shows it: name, whether it is configured, the rules.
  auto queue_json = [](const world& w, const std::string& name) {
    return json{{"name", name},
                {"configured", w.queue_configs().count(name) > 0},
                {"config", to_json(w.config_of(name))}};
  };
  h.Get("/api/queues", [this, admin, queue_json](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    json list = rt_.reads().read([&](const world& w) {
      json out = json::array();
      for (auto& name : w.known_queues())
        out.push_back(queue_json(w, name));
      return out;
    });
    send_json(res, 200, {{"queues", list}});
  });
  h.Get(R"(/api/queues/([^/]+))", [this, admin, queue_json](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    std::string name = req.matches[1];
    json one = rt_.reads().read([&](const world& w) {
      return w.known_queues().count(name) ? queue_json(w, name) : json();
    });
    if (one.is_null())
      return send_error_json(res, 404, "unknown queue " + name);
    send_json(res, 200, one);
  });
  h.Delete(R"(/api/queues/([^/]+))", [this, admin, relay](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    std::string name = req.matches[1];
    relay(res, rt_.ask(cmd::delete_queue{name}), {{"name", name}, {"removed", true}});
  });
  h.Get("/api/queue/status", [this, viewer](const httplib::Request& req, httplib::Response& res) {
    size_t limit = 0;
    if (!viewer(req, res) || !waiting_limit(req, res, &limit))
      return;
    int64_t now = rt_.now_ms();
    auto view = rt_.reads().read([&](const world& w) { return w.status(now, limit); });
    send_json(res, 200, replay::status_to_json(view));
  });
  // The live status (README, "Live stream"): a snapshot, then an update
  // whenever the log moved on (checked every 250 ms, so coalesced to at
  // most 4 a second), a comment every 15 s. Each stream holds a worker
  // thread of the page group, never Twilio's share; at most max_streams.
  h.Get("/api/stream", [this, viewer](const httplib::Request& req, httplib::Response& res) {
    size_t limit = 0;
    if (!viewer(req, res) || !waiting_limit(req, res, &limit))
      return;
    int cap = s_.max_streams > 0 ? s_.max_streams : std::max(1, s_.limits.threads / 4);
    if (streams_->fetch_add(1) >= cap) {
      streams_->fetch_sub(1);
      return send_error_json(res, 503, "too many live streams (" + std::to_string(cap) +
                                           ", CALLQ_STREAM_MAX); retry later");
    }
    struct stream_state {
      uint64_t seen = 0;
      bool started = false;
      std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
    };
    auto st = std::make_shared<stream_state>();
    auto streams = streams_;
    auto stopping = stopping_;
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, st, stopping, limit](size_t, httplib::DataSink& sink) {
          using clock = std::chrono::steady_clock;
          if (stopping->load() || !sink.is_writable())
            return false;  // stopping, or the client went away: free the slot
          uint64_t seq = rt_.reads().read([](const world& w) { return w.last_seq(); });
          std::string out;
          if (!st->started || seq != st->seen) {
            // The snapshot also tells the browser to reconnect 1 s after
            // the connection drops (a restart), not its default 3 s.
            out = std::string(st->started ? "" : "retry: 1000\n") + "event: " +
                  (st->started ? "update" : "snapshot") + "\ndata: " +
                  *live_status(seq, limit) + "\n\n";
            st->started = true;
            st->seen = seq;
          } else if (clock::now() - st->last_write >= std::chrono::seconds(15)) {
            out = ": keep-alive\n\n";
          }
          if (!out.empty()) {
            if (!sink.write(out.data(), out.size()))
              return false;
            st->last_write = clock::now();
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(250));
          return !stopping->load();
        },
        [streams](bool) { streams->fetch_sub(1); });
  });
  h.Get("/api/reports/queues", [this, viewer, query](const httplib::Request& req, httplib::Response& res) {
    if (!viewer(req, res))
      return;
    replay::report_options o;
    if (auto st = replay::parse_report_options(query(req, "from"), query(req, "to"),
                                               query(req, "interval"), query(req, "queue"), &o);
        !st)
      return send_error_json(res, 400, st.message());
    replay::queue_report r;
    if (auto st = replay::build_report(rt_.log(), o, &r); !st)
      return send_error_json(res, 500, st.message());
    send_json(res, 200, replay::report_to_json(r));
  });
  h.Get(R"(/api/calls/([^/]+)/timeline)", [this, admin](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    std::string sid = req.matches[1];
    std::vector<events::envelope> evs;
    if (auto st = replay::read_timeline(rt_.log(), "call/" + sid, 0, &evs); !st)
      return send_error_json(res, 500, st.message());
    if (evs.empty())
      return send_error_json(res, 404, "no events for call " + sid);
    json list = json::array();
    for (auto& e : evs)
      list.push_back(events::envelope_to_json(e));
    send_json(res, 200, {{"callSid", sid}, {"events", list}});
  });
  h.Get("/api/audit/export", [this, admin](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    replay::export_options o;
    std::string fmt = req.has_param("format") ? req.get_param_value("format") : "jsonl";
    if (auto st = replay::parse_export_format(fmt, &o.format); !st)
      return send_error_json(res, 400, st.message());
    for (auto [key, target] : {std::pair{"from", &o.from_ms}, std::pair{"to", &o.to_ms}}) {
      if (!req.has_param(key))
        continue;
      if (auto st = events::parse_iso8601(req.get_param_value(key), target); !st)
        return send_error_json(res, 400, std::string(key) + ": " + st.message());
    }
    o.redact_phone = req.has_param("redact-phone") && req.get_param_value("redact-phone") != "false";
    const char* type = o.format == replay::export_format::csv ? "text/csv"
                       : o.format == replay::export_format::jsonl ? "application/x-ndjson"
                                                                   : "text/plain";
    const storage::event_log* log = &rt_.log();
    res.set_chunked_content_provider(type, [log, o](size_t, httplib::DataSink& sink) {
      replay::export_report rep;
      std::string buffer;
      replay::export_log(*log, o, [&](const std::string& chunk) {
        buffer += chunk;
        if (buffer.size() >= 64 * 1024) {
          if (!sink.write(buffer.data(), buffer.size()))
            return false;
          buffer.clear();
        }
        return true;
      }, &rep);
      if (!buffer.empty())
        sink.write(buffer.data(), buffer.size());
      sink.done();
      return true;
    });
  });
  // Cron: `render` turns the reply's body into the JSON summary.
  using summary = std::function<json(const reply&)>;
  auto cron = [&, this](const char* path, cmd::command c, summary render) {
    h.Post(path, [this, admin, relay, c, render](const httplib::Request& req, httplib::Response& res) {
      if (!admin(req, res))
        return;
      auto r = rt_.ask(c);
      relay(res, r, r.failed() ? json() : render(r));
    });
  };
  cron("/api/cron/queue-processor", cmd::sweep{}, [](const reply& r) {
    auto a = std::get_if<sweep_answer>(&r.body);
    sweep_answer s = a ? *a : sweep_answer{};
    return json{{"offered", s.offered}, {"waiting", s.waiting}, {"readyAgents", s.ready_agents}};
  });
  cron("/api/cron/heartbeat-cleanup", cmd::heartbeat_cleanup{}, [](const reply& r) {
    auto a = std::get_if<cleanup_answer>(&r.body);
    cleanup_answer s = a ? *a : cleanup_answer{};
    return json{{"checked", s.checked}, {"expired", s.ids}};
  });
  cron("/api/cron/queue-cleanup", cmd::queue_cleanup{}, [](const reply& r) {
    auto a = std::get_if<cleanup_answer>(&r.body);
    cleanup_answer s = a ? *a : cleanup_answer{};
    return json{{"removed", s.count}, {"orphaned", s.ids}};
  });

  if (s_.virtual_clock) {
    // Test aid (CALLQ_VIRTUAL_CLOCK=true only): moves virtual time on.
    h.Post("/api/test/clock", [this, admin](const httplib::Request& req, httplib::Response& res) {
      if (!admin(req, res))
        return;
      json body;
      if (!json_object_body(req, res, &body))
        return;
      if (!body.contains("advanceMs") || !body["advanceMs"].is_number_integer())
        return send_error_json(res, 400, "body must be {\"advanceMs\": N}");
      rt_.advance_clock(body["advanceMs"].get<int64_t>());
      send_json(res, 200, {{"advancedMs", body["advanceMs"]}});
    });
    // Tests: kills one of the supervised actors, as an exception escaping
    // its handler would (README, "Supervision and overload").
    h.Post("/api/test/crash", [this, admin](const httplib::Request& req, httplib::Response& res) {
      if (!admin(req, res))
        return;
      json body;
      if (!json_object_body(req, res, &body))
        return;
      if (!body.contains("actor") || !body["actor"].is_string())
        return send_error_json(res, 400, "body must be {\"actor\": \"journal\"|\"dispatcher\"|\"timers\"|\"gateway\"}");
      if (auto st = rt_.crash_for_test(body["actor"].get<std::string>()); !st)
        return send_error_json(res, 400, st.message());
      send_json(res, 200, {{"crashed", body["actor"]}});
    });
  }

  // -------------------------------------------------------- open ones --
  // The pages and their files (embedded at build time) need no token; the
  // data they read does. They load nothing from elsewhere, and say so.
  for (const web_asset& a : web_assets()) {
    h.Get(std::string(a.path), [&a](const httplib::Request&, httplib::Response& res) {
      res.status = 200;
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; frame-ancestors 'self'");
      res.set_content(a.body.data(), a.body.size(), std::string(a.content_type));
    });
  }
  h.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    // 200 while the server answers; "degraded" while the log cannot be
    // written (requests that change state get 503, reads work) or new
    // calls are refused for lack of disk space.
    const storage_health& s = rt_.storage();
    nlohmann::json storage = {{"writable", s.writable()},
                              {"freeBytes", s.free_bytes()},
                              {"diskLow", s.disk_low()},
                              {"reserveReached", s.reserve_reached()}};
    if (!s.writable())
      storage["reason"] = s.reason();
    bool ok = s.writable() && !s.reserve_reached();
    send_json(res, 200, {{"status", ok ? "ok" : "degraded"},
                         {"role", rt_.is_leader() ? "leader" : "follower"},
                         {"storage", storage}});
  });
  // For a load balancer's health check: only the leader takes traffic.
  h.Get("/healthz/leader", [this](const httplib::Request&, httplib::Response& res) {
    if (rt_.is_leader())
      return send_json(res, 200, {{"status", "ok"}, {"role", "leader"}});
    res.set_header("Retry-After", "1");
    send_json(res, 503, {{"status", "follower"}, {"role", "follower"},
                         {"error", "this callq follows; another one leads"}});
  });
  h.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    int64_t now = rt_.now_ms();
    auto summary = rt_.reads().read([now](const world& w) { return w.summary(now); });
    res.status = 200;
    res.set_content(render_metrics(summary, rt_.actors(), rt_.journal_figures(),
                                   rt_.gateway_figures()) +
                        render_storage_metrics(rt_.storage(), rt_.snapshot_figures()) +
                        render_load_metrics(rt_.load()) +
                        render_front_door_metrics(door_->figures()),
                    "text/plain; version=0.0.4");
  });

  // cpp-httplib 0.11 refuses a POST that has neither Content-Length nor a
  // chunked body with 400 before any route runs; such a request (curl -X
  // POST with no data, say) has an empty body, so say so.
  h.set_pre_routing_handler([](const httplib::Request& req, httplib::Response&) {
    if ((req.method == "POST" || req.method == "PUT") && !req.has_header("Content-Length") &&
        !req.has_header("Transfer-Encoding"))
      const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
    return httplib::Server::HandlerResponse::Unhandled;
  });

  h.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      if (res.status == 404)
        send_error_json(res, 404, "no such endpoint");
      else if (res.status == 413)
        send_error_json(res, 413, "request body too large");
      else if (res.status >= 400)
        send_error_json(res, res.status, "request failed with HTTP " + std::to_string(res.status));
    }
  });
  h.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    send_error_json(res, 500, what);
  });
}

}  // namespace callq::http
