// libFuzzer: the JSON bodies of heartbeats and the admin API.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/bodies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  callq::cmd::heartbeat hb;
  (void)callq::http::parse_heartbeat_body(text, &hb);
  callq::cmd::put_agent agent;
  (void)callq::http::parse_agent_body(text, "alice", "support", &agent);
  callq::cmd::put_caller caller;
  (void)callq::http::parse_caller_body(text, "+15551230001", &caller);
  return 0;
}
