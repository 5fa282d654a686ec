// The real `callq serve` binary as a child process on a loopback port,
// plus a client that talks to it the way Twilio, softphones and operators
// do (signed form webhooks, bearer-token JSON).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <sys/types.h>

#include <nlohmann/json.hpp>

namespace httplib {
class Client;
}

namespace callq::testing {

struct spawned_server;  // tests/spawn_server.hpp

/// Settings every end-to-end test shares.
constexpr const char* admin_token = "e2e-admin-token";
constexpr const char* twilio_token = "e2e-twilio-token";
constexpr const char* public_base = "https://callq.example.test";

class callq_process {
 public:
  /// Starts `callq serve --port 0` on `data_dir` with the test settings,
  /// `api_base` as TWILIO_API_BASE and `extra` environment variables, and
  /// waits for its "listening" line.
  callq_process(const std::string& data_dir, const std::string& api_base,
                std::map<std::string, std::string> extra = {});
  ~callq_process();

  /// True when the server printed its listening line.
  bool ready() const { return port_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  /// Waits until the server prints a stdout line holding `marker` (e.g.
  /// "callq leads", "callq follows": README, "High availability"); false
  /// after `timeout_ms`.
  bool wait_for_output(const std::string& marker, int timeout_ms);

  /// SIGTERM, then waits; returns the exit status (or -1).
  int terminate();
  /// SIGKILL, then waits.
  void kill_hard();
  /// Waits for the server to exit by itself; its exit status, -1 when it
  /// died of a signal, -2 when it still runs after `timeout_ms` (it is then
  /// left running).
  int wait_exit(int timeout_ms);

  /// A Twilio webhook, signed with the test auth token. `query` includes
  /// the leading '?', if any.
  struct result {
    int status = 0;    ///< 0: no answer came
    std::string body;  ///< the answer, or why none came
  };
  result webhook(const std::string& name, const std::string& query,
                 const std::map<std::string, std::string>& form,
                 const std::string& idempotency_token = "", bool sign = true,
                 const std::string& forced_signature = "");
  /// JSON with a bearer token.
  result json_request(const std::string& method, const std::string& path,
                      const std::string& token, const nlohmann::json& body = nullptr);
  /// Admin GET as JSON (fails the test on a non-200 answer).
  nlohmann::json admin_get(const std::string& path);
  /// Number of events in the log, from the JSON-lines export.
  size_t event_count();
  /// Moves the server's virtual clock on.
  void advance(int64_t ms);

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::unique_ptr<spawned_server> child_;  ///< its stdout
  std::unique_ptr<httplib::Client> client_;
};

/// A Twilio webhook as callq_process::webhook sends it, through a client
/// of the caller's own (one per thread: a client is not shared).
callq_process::result signed_webhook(httplib::Client& client, const std::string& name,
                                     const std::string& query,
                                     const std::map<std::string, std::string>& form,
                                     const std::string& idempotency_token = "", bool sign = true,
                                     const std::string& forced_signature = "");

/// The form of a Twilio voice webhook for call `sid` from `from` (inbound,
/// in progress), with `extra` fields added or replaced.
std::map<std::string, std::string> twilio_call(const std::string& sid,
                                               const std::string& from = "+15551230001",
                                               std::map<std::string, std::string> extra = {});

/// Whether `text` holds `part`.
inline bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Creates an agent, returns its token.
std::string create_agent(callq_process& p, const std::string& id,
                         const std::vector<std::string>& queues = {"support"});
/// An agent heartbeat; returns the answer's JSON.
nlohmann::json heartbeat(callq_process& p, const std::string& id, const std::string& token,
                         const std::string& status = "available", bool device = true);

}  // namespace callq::testing
