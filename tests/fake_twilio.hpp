// A fake of Twilio's REST API on loopback: it records every request and
// answers like Twilio (200 for a redirect, 201 for a created call), or
// with scripted failures. Tests wait on it with a deadline, never a sleep.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
}

namespace callq::testing {

/// One request the fake received.
struct rest_request {
  std::string method, path, authorization;
  std::map<std::string, std::string> form;
};

/// The offer id in a redirect's `Url` (`...connect-agent?offer=ID`), or
/// "" when it has none.
inline std::string offer_in(const rest_request& r) {
  auto url = r.form.count("Url") ? r.form.at("Url") : "";
  auto at = url.find("offer=");
  return at == std::string::npos ? "" : url.substr(at + 6);
}

class fake_twilio {
 public:
  fake_twilio();
  ~fake_twilio();

  /// Base URL to give callq as TWILIO_API_BASE.
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  /// The next `n` requests are answered with HTTP `status`.
  void fail_next(int n, int status);
  /// The next `n` requests are recorded at once but answered (200/201)
  /// only after `hold`: longer than the gateway's read timeout, Twilio
  /// looks as if its answer was lost.
  void stall_next(int n, std::chrono::milliseconds hold);

  /// A copy of every request so far.
  std::vector<rest_request> requests() const;

  /// Waits until `pred(requests)` holds or `timeout` passes.
  bool wait_for(const std::function<bool(const std::vector<rest_request>&)>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  /// The CallSid the fake gives the call created by request number `index`
  /// (0-based), e.g. "CAfake3": what Twilio would send in that call's
  /// webhooks.
  static std::string created_sid(size_t index) { return "CAfake" + std::to_string(index); }

  /// Waits for the request number `index` (0-based) and returns it.
  rest_request wait_request(size_t index, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::vector<rest_request> requests_;
  int failures_left_ = 0;
  int failure_status_ = 500;
  int stalls_left_ = 0;
  std::chrono::milliseconds stall_{0};
  bool stopping_ = false;  ///< the destructor releases stalled answers
};

}  // namespace callq::testing
