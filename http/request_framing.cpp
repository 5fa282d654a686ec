#include "http/request_framing.hpp"

#include <cctype>
#include <cstdint>

namespace callq::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool contains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token))
      return true;
    if (comma == std::string_view::npos)
      break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

request_frame fail(request_frame f, frame_state s, const char* why) {
  f.state = s;
  f.reason = why;
  return f;
}

/// Frames a chunked body starting at `at`; sets total_bytes when complete.
request_frame frame_chunked(std::string_view b, size_t at, size_t max_body, request_frame f) {
  size_t body = 0;
  for (;;) {
    auto eol = b.find('\n', at);
    if (eol == std::string_view::npos)
      return b.size() - at > 1024 ? fail(f, frame_state::bad_request, "chunk size line too long") : f;
    auto line = trim(b.substr(at, eol - at));
    line = line.substr(0, line.find(';'));
    if (line.empty() || line.size() > 16)
      return fail(f, frame_state::bad_request, "bad chunk size");
    uint64_t size = 0;
    for (char c : line) {
      if (!std::isxdigit(static_cast<unsigned char>(c)))
        return fail(f, frame_state::bad_request, "bad chunk size");
      size = size * 16 + static_cast<uint64_t>(std::isdigit(static_cast<unsigned char>(c))
                                                   ? c - '0'
                                                   : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10);
    }
    at = eol + 1;
    if (size == 0) {
      // Trailer fields, then the blank line.
      for (;;) {
        auto end = b.find('\n', at);
        if (end == std::string_view::npos)
          return f;
        auto trailer = trim(b.substr(at, end - at));
        at = end + 1;
        if (trailer.empty()) {
          f.state = frame_state::complete;
          f.total_bytes = at;
          return f;
        }
      }
    }
    body += size;
    if (body > max_body)
      return fail(f, frame_state::body_too_large, "request body too large");
    if (b.size() < at + size + 1)
      return f;
    at += size;
    if (b[at] == '\r')
      ++at;
    if (at >= b.size())
      return f;
    if (b[at] != '\n')
      return fail(f, frame_state::bad_request, "chunk not followed by CRLF");
    ++at;
  }
}

}  // namespace

request_frame frame_request(std::string_view b, size_t max_header_bytes, size_t max_body_bytes) {
  request_frame f;
  // The header block ends at the first empty line.
  size_t at = 0, end = std::string_view::npos;
  while (at < b.size()) {
    auto eol = b.find('\n', at);
    if (eol == std::string_view::npos)
      break;
    auto line = b.substr(at, eol - at);
    at = eol + 1;
    if (line.empty() || line == "\r") {
      end = at;
      break;
    }
  }
  if (end == std::string_view::npos) {
    if (b.size() > max_header_bytes)
      return fail(f, frame_state::headers_too_large, "request headers too large");
    return f;
  }
  if (end > max_header_bytes + 2)
    return fail(f, frame_state::headers_too_large, "request headers too large");
  f.headers_done = true;
  f.header_bytes = end;

  auto first_eol = b.find('\n');
  auto request_line = trim(b.substr(0, first_eol));
  auto sp1 = request_line.find(' ');
  auto sp2 = request_line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1)
    return fail(f, frame_state::bad_request, "malformed request line");
  f.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);

  bool has_length = false, chunked = false;
  uint64_t length = 0;
  size_t line_at = first_eol + 1;
  while (line_at < end) {
    auto eol = b.find('\n', line_at);
    auto line = b.substr(line_at, eol - line_at);
    line_at = eol + 1;
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto name = trim(line.substr(0, colon));
    auto value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      if (value.empty() || value.size() > 18)
        return fail(f, frame_state::bad_request, "bad Content-Length");
      uint64_t v = 0;
      for (char c : value) {
        if (!std::isdigit(static_cast<unsigned char>(c)))
          return fail(f, frame_state::bad_request, "bad Content-Length");
        v = v * 10 + static_cast<uint64_t>(c - '0');
      }
      if (has_length && v != length)
        return fail(f, frame_state::bad_request, "conflicting Content-Length headers");
      has_length = true;
      length = v;
    } else if (iequals(name, "Transfer-Encoding")) {
      if (!contains_token(value, "chunked"))
        return fail(f, frame_state::bad_request, "unsupported Transfer-Encoding");
      chunked = true;
    } else if (iequals(name, "Expect") && iequals(value, "100-continue")) {
      f.expects_continue = true;
    }
  }
  if (has_length && chunked)
    return fail(f, frame_state::bad_request, "both Content-Length and chunked Transfer-Encoding");
  if (chunked)
    return frame_chunked(b, end, max_body_bytes, f);
  if (length > max_body_bytes)
    return fail(f, frame_state::body_too_large, "request body too large");
  if (b.size() - end >= length) {
    f.state = frame_state::complete;
    f.total_bytes = end + length;
  }
  return f;
}

}  // namespace callq::http
