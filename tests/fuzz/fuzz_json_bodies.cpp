// libFuzzer: the JSON bodies of heartbeats and the admin API (a callback
// accepted has a valid number and queue), and the
// queue configuration (whose canonical form must parse again to itself).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/dispatcher/queue_config.hpp"
#include "http/bodies.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  callq::cmd::heartbeat hb;
  (void)callq::http::parse_heartbeat_body(text, &hb);
  callq::cmd::put_agent agent;
  (void)callq::http::parse_agent_body(text, "alice", "support", &agent);
  callq::cmd::put_caller caller;
  (void)callq::http::parse_caller_body(text, "+15551230001", &caller);
  callq::cmd::schedule_callback callback;
  if (callq::http::parse_callback_body(text, "support", &callback) &&
      (!callq::http::valid_e164(callback.number) || !callq::http::valid_queue(callback.queue)))
    __builtin_trap();
  callq::queue_config config;
  if (callq::parse_queue_config(std::string(text), &config)) {
    auto canonical = callq::to_json(config);
    callq::queue_config again;
    if (!callq::parse_queue_config(canonical, &again) || callq::to_json(again) != canonical)
      __builtin_trap();
  }
  return 0;
}
