// The open routes: the pages browsers load (embedded at build time), the
// health checks load balancers and systemd call, and /metrics.
#include "http/server.hpp"

#include <fstream>
#include <iterator>

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

void server::page_routes() {
  auto& h = *http_;

  // -------------------------------------------------------- open ones --
  // The pages and their files (embedded at build time) need no token; the
  // data they read does. They load nothing from elsewhere, and say so.
  for (const web_asset& a : web_assets()) {
    // The agent page's softphone (Twilio's SDK, served by callq like every
    // script) talks to Twilio's signalling servers and plays Twilio's
    // ringtones: those two hosts are allowed for connections and media,
    // nothing else (README, "Agent page").
    bool agent_page = a.path == "/agent";
    h.Get(std::string(a.path), [&a, agent_page](const httplib::Request&, httplib::Response& res) {
      res.status = 200;
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Content-Security-Policy",
                     agent_page ? "default-src 'self'; img-src 'self' data:; frame-ancestors 'self'; "
                                  "connect-src 'self' wss://*.twilio.com https://*.twilio.com; "
                                  "media-src 'self' https://sdk.twilio.com https://media.twiliocdn.com"
                                : "default-src 'self'; img-src 'self' data:; frame-ancestors 'self'");
      res.set_content(a.body.data(), a.body.size(), std::string(a.content_type));
    });
  }
  // Audio the TTS service rendered (README, "What callers hear"): names
  // are HMACs, known only from TwiML.
  h.Get(R"(/audio/([0-9a-f]{64}\.(mp3|wav)))", [this](const httplib::Request& req, httplib::Response& res) {
    std::string path = tts_ ? tts_->file_of(req.matches[1]) : std::string();
    std::ifstream in(path, std::ios::binary);
    if (path.empty() || !in)
      return send_error_json(res, 404, "no such audio");
    std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    res.status = 200;
    res.set_header("Cache-Control", "public, max-age=86400");
    res.set_content(body, req.matches[2] == "mp3" ? "audio/mpeg" : "audio/wav");
  });
  h.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    // 200 while the server answers; "degraded" while the log cannot be
    // written (requests that change state get 503, reads work; a crashed
    // actor is being rebuilt) or new calls are refused for lack of disk
    // space.
    // 503 "failed" once the actors could not be rebuilt: the process
    // dispatches nothing and is about to exit for a restart.
    if (std::string why = rt_.down(); !why.empty())
      return send_json(res, 503, {{"status", "failed"},
                                  {"role", rt_.is_leader() ? "leader" : "follower"},
                                  {"error", why}});
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
                        render_read_model_metrics(rt_.reads().stats()) +
                        render_load_metrics(rt_.load()) +
                        render_dispatch_metrics(rt_.dispatch_figures()) +
                        render_front_door_metrics(door_->figures()) +
                        render_tts_metrics(tts_->figures()),
                    "text/plain; version=0.0.4");
  });
}

}  // namespace callq::http
