// How the Twilio gateway reaches Twilio and what it counts: plain data, no
// CAF, for the runtime's public header, /metrics and test clients.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "actors/commands.hpp"
#include "actors/percent_encoding.hpp"  // form_encode, for callers of the gateway

namespace callq {

/// Where and how to reach Twilio.
struct gateway_options {
  std::string api_base = "https://api.twilio.com";
  std::string account_sid;
  std::string auth_token;
  std::string public_base_url = "http://localhost:8080";
  std::string caller_id;
  int max_attempts = 5;           ///< per request, the first included
  int64_t first_backoff_ms = 250; ///< doubles after every failure
  int connect_timeout_s = 3;
  int read_timeout_s = 5;
  int workers = 4;                ///< parallel REST clients
};

/// Outcome counters for /metrics.
struct gateway_stats {
  std::atomic<uint64_t> ok{0}, retried{0}, failed{0};
};

/// Where a job that finally failed is reported, as a command
/// (redirect_failed or callback_call_failed), and a callback's call that
/// Twilio placed (callback_call_placed, with the CallSid of its answer);
/// called on a worker thread.
using rest_report = std::function<void(const cmd::command&)>;

}  // namespace callq
