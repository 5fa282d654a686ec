// libFuzzer: the front door's request framing (bytes from any client).
// Besides not crashing, a frame must be consistent: a complete request
// lies within the buffer and its headers within it; an error names why;
// and feeding the same bytes in two pieces never frames a request that
// the whole buffer frames differently.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/request_framing.hpp"

using callq::http::frame_request;
using callq::http::frame_state;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  constexpr size_t max_header = 8192, max_body = 65536;
  auto f = frame_request(bytes, max_header, max_body);
  switch (f.state) {
    case frame_state::complete:
      if (!f.headers_done || f.total_bytes > size || f.header_bytes > f.total_bytes ||
          f.header_bytes == 0)
        std::abort();
      // The same request followed by more bytes frames the same way.
      {
        auto again = frame_request(bytes.substr(0, f.total_bytes), max_header, max_body);
        if (again.state != frame_state::complete || again.total_bytes != f.total_bytes)
          std::abort();
      }
      break;
    case frame_state::need_more:
      if (f.headers_done && f.header_bytes > size)
        std::abort();
      break;
    default:
      if (f.reason == nullptr || *f.reason == '\0')
        std::abort();
  }
  // A prefix never claims a complete request longer than itself.
  if (size > 1) {
    auto half = frame_request(bytes.substr(0, size / 2), max_header, max_body);
    if (half.state == frame_state::complete && half.total_bytes > size / 2)
      std::abort();
  }
  return 0;
}
