// The front door: one thread owns every client connection (epoll) and
// reads each request completely, within deadlines and size limits, before
// a worker thread sees it; workers are admitted by route group (Twilio's
// webhooks first), and what is beyond capacity is answered 503 at once.
// A slow, idle or hostile client therefore costs a socket and a buffer,
// never a worker thread. A worker that has answered a kept-alive
// connection may wait on it a moment for its next request (while no other
// request waits for a thread): a busy client's next request then costs one
// thread wake-up instead of the reactor's two hand-offs.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "events/status.hpp"
#include "http/route_group.hpp"

namespace httplib {
class Stream;
}

namespace callq::http {

/// The limits on clients. Each has a variable (see the README).
struct front_door_settings {
  int threads = 64;                       ///< CALLQ_HTTP_THREADS
  int64_t header_timeout_ms = 5000;       ///< CALLQ_HTTP_HEADER_TIMEOUT: connect (or first byte) to end of headers
  int64_t body_timeout_ms = 10000;        ///< CALLQ_HTTP_BODY_TIMEOUT: end of headers to end of body
  int64_t idle_timeout_ms = 5000;         ///< CALLQ_HTTP_IDLE_TIMEOUT: keep-alive between requests
  int64_t write_timeout_ms = 10000;       ///< CALLQ_HTTP_WRITE_TIMEOUT: longest stall writing an answer
  size_t max_header_bytes = 16 * 1024;    ///< CALLQ_HTTP_MAX_HEADER_BYTES (431 beyond)
  size_t max_body_bytes = 1 << 20;        ///< CALLQ_HTTP_MAX_BODY_BYTES (413 beyond)
  size_t max_connections = 10000;         ///< CALLQ_HTTP_MAX_CONNECTIONS
  size_t max_connections_per_address = 256;  ///< CALLQ_HTTP_MAX_CONNECTIONS_PER_ADDRESS
  size_t max_buffered_bytes = 256u << 20;    ///< CALLQ_HTTP_MAX_BUFFERED_BYTES, all connections
  size_t keep_alive_max_requests = 100000;   ///< requests per connection
  /// CALLQ_HTTP_LINGER: how long a worker that has answered a kept-alive
  /// connection waits on it for the next request itself (serving it
  /// without the reactor's two hand-offs) before giving it back to the
  /// reactor; it gives it back at once when other requests wait for a
  /// thread. 0: never.
  int64_t linger_ms = 20;
};

/// Counters and gauges for /metrics.
struct front_door_figures {
  size_t connections_open = 0;
  size_t buffered_bytes = 0;
  uint64_t refused_per_address = 0;  ///< connections closed at accept: address cap
  uint64_t refused_total = 0;        ///< connections closed at accept: total cap or no fds
  uint64_t closed_header_timeout = 0;
  uint64_t closed_body_timeout = 0;
  uint64_t closed_idle = 0;
  uint64_t rejected_too_large = 0;  ///< 413 and 431
  uint64_t rejected_bad = 0;        ///< 400 from framing
  uint64_t served_lingering = 0;    ///< requests read and served by a lingering worker
  int idle_workers = 0;              ///< started workers waiting for a request to serve
  std::array<size_t, route_group_count> waiting{};
  std::array<int, route_group_count> busy{};
  std::array<uint64_t, route_group_count> served{};
  std::array<uint64_t, route_group_count> shed{};
};

/// Serves one complete request from `strm` (cpp-httplib's
/// Server::process_request); returns false when the connection must close.
/// Told every 100 ms how long the oldest waiting Twilio webhook and the
/// oldest waiting agent request (heartbeats) have waited for a thread, ms.
using backlog_sink = std::function<void(int64_t twilio_wait_ms, int64_t agent_wait_ms)>;

using request_processor =
    std::function<bool(httplib::Stream& strm, bool close_connection, bool& connection_closed)>;

class front_door {
 public:
  front_door(front_door_settings settings, request_processor process, backlog_sink backlog = {});
  ~front_door();
  front_door(const front_door&) = delete;
  front_door& operator=(const front_door&) = delete;

  /// Binds and listens on `host`:`port` (0: any free port); `*bound` is the
  /// port bound. Raises the open-files limit to its hard maximum.
  status bind(const std::string& host, int port, int* bound);

  /// Serves until stop(); requests already read are answered first.
  void run();

  /// Stops accepting and makes run() return; safe from any thread.
  void stop();

  /// A consistent copy of the counters.
  front_door_figures figures() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace callq::http
