#include "http/request_framing.hpp"

#include <string>

#include <catch2/catch.hpp>

using namespace callq::http;

namespace {
constexpr size_t kb = 1024;
request_frame frame(const std::string& s) { return frame_request(s, 16 * kb, 64 * kb); }
}  // namespace

TEST_CASE("framing: a request is complete once its headers and its whole body are in") {
  std::string head = "POST /api/webhooks/twilio/voice HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n";
  auto f = frame(head.substr(0, 20));
  CHECK(f.state == frame_state::need_more);
  CHECK_FALSE(f.headers_done);
  std::string partial = head + "CallSid=C";
  f = frame(partial);
  CHECK(f.state == frame_state::need_more);
  CHECK(f.headers_done);
  CHECK(f.header_bytes == head.size());
  CHECK(f.target == "/api/webhooks/twilio/voice");
  f = frame(head + "CallSid=CA1GET / HTTP/1.1\r\n");  // a pipelined request follows
  CHECK(f.state == frame_state::complete);
  CHECK(f.total_bytes == head.size() + 11);
}

TEST_CASE("framing: no body, bare LF lines, Expect: 100-continue") {
  auto f = frame("GET /healthz HTTP/1.1\nHost: x\n\n");
  CHECK(f.state == frame_state::complete);
  CHECK(f.total_bytes == 31);
  f = frame("PUT /api/agents/a HTTP/1.1\r\nexpect: 100-continue\r\ncontent-length: 5\r\n\r\n");
  CHECK(f.state == frame_state::need_more);
  CHECK(f.expects_continue);
}

TEST_CASE("framing: chunked bodies") {
  std::string head = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(frame(head + "5\r\nhel").state == frame_state::need_more);
  CHECK(frame(head + "5\r\nhello\r\n").state == frame_state::need_more);
  auto f = frame(head + "5;ext=1\r\nhello\r\n0\r\n\r\n");
  CHECK(f.state == frame_state::complete);
  CHECK(f.total_bytes == head.size() + 21);
  f = frame(head + "3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\nGET");
  CHECK(f.state == frame_state::complete);
  CHECK(f.total_bytes == head.size() + 27);
  CHECK(frame(head + "zz\r\n").state == frame_state::bad_request);
  CHECK(frame(head + "3\r\nabcX").state == frame_state::bad_request);
  CHECK(frame(head + "20000\r\n").state == frame_state::body_too_large);
}

TEST_CASE("framing: limits and malformed requests") {
  CHECK(frame("POST /x HTTP/1.1\r\nContent-Length: 70000\r\n\r\n").state == frame_state::body_too_large);
  CHECK(frame("GET /x HTTP/1.1\r\nX: " + std::string(17 * kb, 'a')).state == frame_state::headers_too_large);
  CHECK(frame("GET /x HTTP/1.1\r\nX: " + std::string(17 * kb, 'a') + "\r\n\r\n").state ==
        frame_state::headers_too_large);
  CHECK(frame("POST /x HTTP/1.1\r\nContent-Length: 1x\r\n\r\n").state == frame_state::bad_request);
  CHECK(frame("POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n").state ==
        frame_state::bad_request);
  CHECK(frame("POST /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n").state ==
        frame_state::bad_request);
  CHECK(frame("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n").state == frame_state::bad_request);
  CHECK(frame("GARBAGE\r\n\r\n").state == frame_state::bad_request);
  // Two equal Content-Length headers are one length.
  CHECK(frame("POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nA").state ==
        frame_state::complete);
}

TEST_CASE("framing: each limit at its bound, with small limits (100 header bytes, 50 body bytes)") {
  auto small = [](const std::string& s) { return frame_request(s, 100, 50); };
  std::string get = "GET /x HTTP/1.1\r\nX: ";  // 20 bytes
  // The header block may end at most 2 bytes past the limit (its blank line).
  CHECK(small(get + std::string(78, 'a') + "\r\n\r\n").state == frame_state::complete);  // ends at 102
  CHECK(small(get + std::string(79, 'a') + "\r\n\r\n").state == frame_state::headers_too_large);
  std::string post = "POST /x HTTP/1.1\r\n";
  CHECK(small(post + "Content-Length: 50\r\n\r\n").state == frame_state::need_more);
  CHECK(small(post + "Content-Length: 51\r\n\r\n").state == frame_state::body_too_large);
  std::string chunked = post + "Transfer-Encoding: chunked\r\n\r\n";
  CHECK(small(chunked + "32\r\n" + std::string(50, 'b') + "\r\n0\r\n\r\n").state == frame_state::complete);
  CHECK(small(chunked + "33\r\n").state == frame_state::body_too_large);
  // A chunk size of 16 hex digits at most; a size line of 1 KiB at most.
  CHECK(small(chunked + "0000000000000005\r\nhello\r\n0\r\n\r\n").state == frame_state::complete);
  CHECK(small(chunked + "00000000000000005\r\n").state == frame_state::bad_request);
  CHECK(frame(chunked + std::string(1024, '0')).state == frame_state::need_more);
  CHECK(frame(chunked + std::string(1025, '0')).state == frame_state::bad_request);
  // A Content-Length of 18 digits at most.
  CHECK(small(post + "Content-Length: 000000000000000005\r\n\r\n").state == frame_state::need_more);
  CHECK(small(post + "Content-Length: 0000000000000000005\r\n\r\n").state == frame_state::bad_request);
}

TEST_CASE("framing: header names in full, values trimmed of tabs, a request line of three parts") {
  // Not Content-Length, whatever it starts with: no body to wait for.
  CHECK(frame("POST /x HTTP/1.1\r\nContent-Lengt: 5\r\n\r\n").state == frame_state::complete);
  CHECK(frame("POST /x HTTP/1.1\r\nContent-Length:\t5\r\n\r\n").state == frame_state::need_more);
  CHECK_FALSE(frame("PUT /x HTTP/1.1\r\nExpect: 200-ok\r\nContent-Length: 5\r\n\r\n").expects_continue);
  CHECK(frame("GET /x\r\n\r\n").state == frame_state::bad_request);  // no HTTP version
}
