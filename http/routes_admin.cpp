// The routes operators and their tools call, with the admin or the viewer
// token: agents, callers, callbacks, queues, status, the live stream,
// reports, timelines, export, cron and test endpoints.
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
#include "replay/what_if.hpp"

namespace callq::http {

void server::admin_routes() {
  auto& h = *http_;

  auto query = &query_value;

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
    json answer = {{"number", x.number}, {"name", x.display_name}, {"priority", x.priority}};
    if (!x.language.empty())
      answer["language"] = x.language;
    auto r = rt_.ask(x);
    if (!r.failed())
      render_ahead();  // the caller's personalised greeting
    relay(res, r, answer);
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
      list.push_back(callback_to_json(cb));
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
    render_ahead();  // its prompts, for the TTS service
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
    auto view = rt_.reads().status(now, limit);
    send_json(res, 200, status_to_json(view));
  });
  // The live status (README, "Live stream"): a snapshot, then an update
  // whenever the log moved on (checked every 250 ms, so coalesced to at
  // most 4 a second), a comment every 15 s. Each stream holds a worker
  // thread of the page group, never Twilio's share; at most max_streams.
  h.Get("/api/stream", [this, viewer](const httplib::Request& req, httplib::Response& res) {
    size_t limit = 0;
    if (!viewer(req, res) || !waiting_limit(req, res, &limit))
      return;
    live_stream(res, [this, limit](uint64_t seq, bool first) {
      // The snapshot also tells the browser to reconnect 1 s after the
      // connection drops (a restart), not its default 3 s.
      return stream_step{std::string(first ? "retry: 1000\n" : "") + "event: " +
                         (first ? "snapshot" : "update") + "\ndata: " + *live_status(seq, limit) +
                         "\n\n"};
    });
  });
  h.Get("/api/reports/queues", [this, viewer, query](const httplib::Request& req, httplib::Response& res) {
    if (!viewer(req, res))
      return;
    replay::report_options o;
    if (auto st = replay::parse_report_options(query(req, "from"), query(req, "to"),
                                               query(req, "interval"), query(req, "queue"), &o);
        !st)
      return send_error_json(res, 400, st.message());
    if (auto st = replay::parse_split(query(req, "split"), &o); !st)
      return send_error_json(res, 400, st.message());
    replay::queue_report r;
    if (auto st = replay::build_report(rt_.log(), o, &r); !st)
      return send_error_json(res, 500, st.message());
    send_json(res, 200, replay::report_to_json(r));
  });
  // What if (README, "What-if and staffing"): the period's callers again,
  // with the agents per interval asked for, beside what happened.
  h.Get("/api/reports/simulate", [this, viewer, query](const httplib::Request& req, httplib::Response& res) {
    if (!viewer(req, res))
      return;
    if (query(req, "from").empty() || query(req, "to").empty())
      return send_error_json(res, 400, "from and to are required (ISO 8601)");
    replay::report_options o;
    if (auto st = replay::parse_report_options(query(req, "from"), query(req, "to"), query(req, "interval"), "", &o);
        !st)
      return send_error_json(res, 400, st.message());
    if (o.to_ms - o.from_ms > replay::max_what_if_period_ms)
      return send_error_json(res, 400, "the period is at most 31 days (callq simulate has no limit)");
    replay::what_if w;
    std::vector<std::string> specs;
    for (size_t i = 0; i < req.get_param_value_count("agents"); ++i)
      specs.push_back(req.get_param_value("agents", i));
    if (auto st = replay::parse_agents_per_interval(specs, o, &w); !st)
      return send_error_json(res, 400, st.message());
    if (std::string seed = query(req, "seed"); !seed.empty()) {
      if (seed.size() > 19 || seed.find_first_not_of("0123456789") != std::string::npos)
        return send_error_json(res, 400, "seed must be a whole number");
      w.seed = std::stoull(seed);
    }
    replay::what_if_result r;
    if (auto st = replay::simulate_period(rt_.log(), rt_.rules(), o, w, &r); !st)
      return send_error_json(res, st.error_code() == status::code::invalid_argument ? 400 : 500, st.message());
    send_json(res, 200, replay::what_if_to_json(r, w.seed));
  });
  h.Get(R"(/api/calls/([^/]+)/timeline)", [this, admin](const httplib::Request& req, httplib::Response& res) {
    if (!admin(req, res))
      return;
    std::string sid = req.matches[1];
    std::vector<events::envelope> evs;
    if (auto st = replay::read_timeline(rt_.log(), events::call_stream(sid), 0, &evs); !st)
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
    // its handler would (README, "Supervision and overload");
    // "failRebuild": true makes the rebuild that follows fail too.
    h.Post("/api/test/crash", [this, admin](const httplib::Request& req, httplib::Response& res) {
      if (!admin(req, res))
        return;
      json body;
      if (!json_object_body(req, res, &body))
        return;
      if (!body.contains("actor") || !body["actor"].is_string())
        return send_error_json(res, 400, "body must be {\"actor\": \"journal\"|\"dispatcher\"|\"timers\"|\"gateway\"}");
      if (body.contains("failRebuild") && !body["failRebuild"].is_boolean())
        return send_error_json(res, 400, "failRebuild must be true or false");
      bool fail_rebuild = body.value("failRebuild", false);
      if (auto st = rt_.crash_for_test(body["actor"].get<std::string>(), fail_rebuild); !st)
        return send_error_json(res, 400, st.message());
      send_json(res, 200, {{"crashed", body["actor"]}});
    });
  }
}

}  // namespace callq::http
