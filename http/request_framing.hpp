// Where one HTTP/1.1 request ends in the bytes a connection has sent so
// far: the front door hands a request to a worker thread only once it is
// complete, so a slow client never holds a thread. Pure; no sockets.
#pragma once

#include <cstddef>
#include <string_view>

namespace callq::http {

/// How far a buffered request has come.
enum class frame_state {
  need_more,          ///< headers or body still incomplete
  complete,           ///< the whole request is buffered
  headers_too_large,  ///< 431: no header end within the limit
  body_too_large,     ///< 413: declared or chunked body beyond the limit
  bad_request,        ///< 400: unparseable framing
};

/// The framing of the first request in a buffer.
struct request_frame {
  frame_state state = frame_state::need_more;
  bool headers_done = false;     ///< the blank line after the headers is in
  size_t header_bytes = 0;       ///< request line and headers, blank line included
  size_t total_bytes = 0;        ///< whole request, when complete
  bool expects_continue = false;  ///< "Expect: 100-continue"
  std::string_view target;       ///< request target (path and query), once headers are in
  const char* reason = "";       ///< why, for the error states
};

/// Frames the first request in `buffered`. Bodies are delimited by
/// Content-Length or chunked transfer coding (both at once is refused).
request_frame frame_request(std::string_view buffered, size_t max_header_bytes,
                            size_t max_body_bytes);

}  // namespace callq::http
