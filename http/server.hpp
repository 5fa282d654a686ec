// The HTTP front end: cpp-httplib routes that parse and check requests,
// turn them into commands for the runtime, and render the answers as TwiML
// or JSON. No business rules live here.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "actors/runtime.hpp"
#include "events/status.hpp"
#include "http/front_door.hpp"
#include "http/tts.hpp"
#include "http/twiml.hpp"
#include "http/voice_token.hpp"

namespace httplib {
class Server;
struct Response;
}

namespace callq::http {

/// Everything the front end needs to know.
struct server_settings {
  std::string bind = "127.0.0.1";
  int port = 8080;  ///< 0: any free port
  std::string public_base_url = "http://localhost:8080";
  std::string twilio_auth_token;  ///< empty: webhooks are not signature-checked
  std::string admin_token;
  /// CALLQ_VIEWER_TOKEN: reads the status (and the live stream and
  /// reports); every other admin path answers it 403. Empty: none.
  std::string viewer_token;
  std::string default_queue = "support";
  twiml_settings twiml;
  bool virtual_clock = false;  ///< enables POST /api/test/clock
  /// The agent page: the reasons an agent may give for a break
  /// (AGENT_PAUSE_REASONS) and what signs its softphone's voice tokens.
  std::vector<std::string> pause_reasons = {"break", "lunch", "training", "meeting", "other"};
  voice_token_settings voice;
  /// TTS_URL: prompts rendered ahead of time (README, "What callers hear"),
  /// kept under `data_dir`/audio.
  tts_settings tts;
  std::string data_dir = "./callq-data";
  /// CALLQ_STREAM_MAX: open `GET /api/stream`s at once (each holds a
  /// worker thread); beyond it, 503. 0: a quarter of the threads.
  int max_streams = 0;
  front_door_settings limits;  ///< limits on clients, threads
};

class server {
 public:
  server(runtime& rt, server_settings settings);
  ~server();

  /// Binds the listening socket; `*port` is the port bound.
  status bind(int* port);

  /// Serves until stop(); in-flight requests finish first.
  void run();

  /// Stops accepting; run() returns once in-flight requests are done.
  void stop();

  /// The front door's counters (for /metrics).
  front_door_figures door_figures() const;

 private:
  /// Registers every route: by who calls them, then the engine's handlers.
  void routes();
  void twilio_routes();  ///< routes_twilio.cpp
  void agent_routes();   ///< routes_agents.cpp
  void admin_routes();   ///< routes_admin.cpp
  void page_routes();    ///< routes_pages.cpp
  void agent_desk_routes();  ///< routes_agent_desk.cpp
  /// Asks the TTS service for every fixed text of every queue, and every
  /// known caller's greeting (no-op without TTS_URL).
  void render_ahead();
  /// The TwiML of a reply to a caller, spoken as its queue says.
  std::string caller_twiml(const voice_reply& v);
  runtime& rt_;
  server_settings s_;
  std::unique_ptr<httplib::Server> http_;  ///< routes, parsing, rendering
  std::unique_ptr<front_door> door_;        ///< connections, limits, threads
  std::unique_ptr<tts_renderer> tts_;       ///< the TTS service's renders
  std::shared_ptr<std::atomic<int>> streams_ = std::make_shared<std::atomic<int>>(0);  ///< open streams
  std::shared_ptr<std::atomic<bool>> stopping_ = std::make_shared<std::atomic<bool>>(false);
  /// The status JSON the live streams send, rendered once per log position
  /// and waiting limit and shared by every stream that asks for it.
  struct rendered_status {
    std::mutex mu;
    /// waiting limit -> (log position, JSON)
    std::map<size_t, std::pair<uint64_t, std::shared_ptr<const std::string>>> by_limit;
  };
  std::shared_ptr<rendered_status> live_ = std::make_shared<rendered_status>();
  /// One look of a live stream: what to send now ("" for nothing) and
  /// whether the stream ends after it.
  struct stream_step {
    std::string text;
    bool last = false;
  };
  /// Holds a Server-Sent Events stream on `res` (README, "Live stream"):
  /// `look(seq, first)` runs at once and then whenever the log moved on
  /// (checked every 250 ms, so at most 4 a second); a comment goes out
  /// after 15 s of silence. Each stream holds a worker of the page group,
  /// at most max_streams at once (else 503). It ends when the client goes,
  /// the server stops, or a step is the last.
  void live_stream(httplib::Response& res, std::function<stream_step(uint64_t seq, bool first)> look);
  /// The status JSON at log position `seq` listing at most `waiting_limit`
  /// waiting calls per queue (rendered now unless shared).
  std::shared_ptr<const std::string> live_status(uint64_t seq, size_t waiting_limit);
};

}  // namespace callq::http
