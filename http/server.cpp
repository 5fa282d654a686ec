#include "http/server.hpp"

#include <chrono>
#include <thread>
#include <algorithm>
#include <functional>
#include <limits>
#include <optional>
#include <regex>
#include <set>
#include <tuple>
#include <sys/socket.h>

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
  tts_ = std::make_unique<tts_renderer>(s_.tts, s_.data_dir);
  tts_->start();
  routes();
  render_ahead();
}

server::~server() {
  if (tts_)
    tts_->stop();
}

void server::render_ahead() {
  if (!tts_ || !tts_->enabled())
    return;
  std::vector<std::tuple<std::string, std::string, std::string>> wanted;  // text, voice, language
  rt_.reads().read([&](const world& w) {
    std::set<std::string> queues = w.known_queues();
    queues.insert(s_.default_queue);
    for (auto& q : queues) {
      const speech_config& c = w.config_of(q).speech;
      std::vector<std::string> langs = {""};
      for (auto& [tag, p] : c.languages)
        langs.push_back(tag);
      for (auto& lang : langs) {
        speech sp = speech_for(c, lang);
        for (auto& t : fixed_texts(sp, ""))
          wanted.emplace_back(t, sp.voice, sp.language);
        if (s_.twiml.splice)  // a far position or wait, heard first
          for (auto& t : splice_texts(sp))
            wanted.emplace_back(t, sp.voice, sp.language);
        // The first caller on hold hears these: at position 1 or 2, with
        // about a minute to wait.
        voice_reply first{voice_reply::kind::hold};
        first.announce = true;
        first.position = 1;
        first.wait_estimate_seconds = 60;
        first.wait_high_seconds = 60;
        for (auto& t : nearby_hold_texts(first, sp))
          wanted.emplace_back(t, sp.voice, sp.language);
      }
      for (auto& [number, entry] : w.directory())
        if (!entry.display_name.empty()) {
          speech sp = speech_for(c, entry.language);
          wanted.emplace_back(fixed_texts(sp, entry.display_name).front(), sp.voice, sp.language);
        }
    }
    return 0;
  });
  for (auto& [text, voice, language] : wanted)
    tts_->want(text, voice, language);
}

std::string server::caller_twiml(const voice_reply& v) {
  speech sp = rt_.reads().read(
      [&](const world& w) { return speech_for(w.config_of(v.queue).speech, v.language); });
  if (!tts_ || !tts_->enabled())
    return render_twiml(v, s_.twiml, sp);
  audio_lookup audio = [this, &sp](const std::string& text) {
    // Text not rendered yet (a position or wait heard for the first time)
    // is asked for now, for the next caller who hears it.
    std::string name = tts_->play(text, sp.voice, sp.language);
    return name.empty() ? std::string() : s_.public_base_url + "/audio/" + name;
  };
  std::string twiml = render_twiml(v, s_.twiml, sp, audio);
  // The sentences this caller, or the next to join, will likely hear next
  // are asked for ahead (each once: a text stored or queued is not asked
  // again).
  for (auto& text : nearby_hold_texts(v, sp))
    tts_->want(text, sp.voice, sp.language);
  return twiml;
}

status server::bind(int* port) { return door_->bind(s_.bind, s_.port, port); }

void server::run() { door_->run(); }

void server::stop() {
  stopping_->store(true);  // open streams end, so their threads come back
  door_->stop();
  static_cast<routes_only*>(http_.get())->serving(false);
}

front_door_figures server::door_figures() const { return door_->figures(); }

void server::live_stream(httplib::Response& res,
                         std::function<stream_step(uint64_t seq, bool first)> look) {
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
      [this, st, stopping, look = std::move(look)](size_t, httplib::DataSink& sink) {
        using clock = std::chrono::steady_clock;
        if (stopping->load() || !sink.is_writable())
          return false;  // stopping, or the client went away: free the slot
        uint64_t seq = rt_.reads().read([](const world& w) { return w.last_seq(); });
        stream_step step;
        if (!st->started || seq != st->seen) {
          step = look(seq, !st->started);
          st->started = true;
          st->seen = seq;
        }
        if (step.text.empty() && clock::now() - st->last_write >= std::chrono::seconds(15))
          step.text = ": keep-alive\n\n";
        if (!step.text.empty()) {
          if (!sink.write(step.text.data(), step.text.size()))
            return false;
          st->last_write = clock::now();
        }
        if (step.last) {
          sink.done();
          return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        return !stopping->load();
      },
      [streams](bool) { streams->fetch_sub(1); });
}

std::shared_ptr<const std::string> server::live_status(uint64_t seq, size_t waiting_limit) {
  std::lock_guard<std::mutex> lock(live_->mu);  // one stream renders, the others wait for it
  // A few limits are in use at once (the wallboard's, a full list); a
  // client asking for many different ones must not grow this without end.
  if (live_->by_limit.size() >= 4 && !live_->by_limit.count(waiting_limit))
    live_->by_limit.clear();
  auto& [at, text] = live_->by_limit[waiting_limit];
  if (!text || at != seq) {
    int64_t now = rt_.now_ms();
    auto view = rt_.reads().status(now, waiting_limit);
    text = std::make_shared<const std::string>(status_to_json(view).dump());
    at = seq;
  }
  return text;
}


void server::routes() {
  twilio_routes();
  agent_routes();
  agent_desk_routes();
  admin_routes();
  page_routes();
  auto& h = *http_;

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

