#include "tests/callq_process.hpp"

#include <csignal>
#include <filesystem>
#include <cstdlib>
#include <mutex>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "actors/gateway/gateway_options.hpp"
#include "http/signature.hpp"
#include "tests/pg_database.hpp"
#include "tests/spawn_server.hpp"

#ifndef CALLQ_BINARY
#error "CALLQ_BINARY must name the callq executable"
#endif

namespace callq::testing {

namespace {

/// With CALLQ_TEST_STORE=postgresql (the "e2e-pg." tests): the PostgreSQL
/// log standing for `data_dir`, one fresh database per data directory, so
/// a restart finds its log again. Also set as CALLQ_STORE in this process,
/// so the offline commands a test runs (`callq verify --data-dir ...`) read
/// it. Empty otherwise: the RocksDB log in the data directory.
std::string store_for(const std::string& data_dir) {
  const char* mode = std::getenv("CALLQ_TEST_STORE");
  if (mode == nullptr || std::string(mode) != "postgresql")
    return {};
  static std::mutex mu;
  static std::map<std::string, std::string> stores;
  std::lock_guard lock(mu);
  std::string& url = stores[data_dir];
  if (url.empty()) {
    std::string why;
    url = new_pg_database(&why);
    INFO(why);
    REQUIRE_FALSE(url.empty());
  }
  setenv("CALLQ_STORE", url.c_str(), 1);
  return url;
}

}  // namespace

callq_process::callq_process(const std::string& data_dir, const std::string& api_base,
                             std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> env = {
      {"CALLQ_BIND", "127.0.0.1"},
      {"CALLQ_PORT", "0"},
      {"CALLQ_DATA_DIR", data_dir},
      {"CALLQ_ADMIN_TOKEN", admin_token},
      {"TWILIO_AUTH_TOKEN", twilio_token},
      {"TWILIO_ACCOUNT_SID", "ACtest"},
      {"TWILIO_API_BASE", api_base},
      {"TWILIO_CALLER_ID", "+15550000000"},
      {"PUBLIC_BASE_URL", public_base},
      {"CALLQ_VIRTUAL_CLOCK", "true"},
      {"CALLQ_HTTP_THREADS", "8"},
  };
  std::string store = store_for(data_dir);
  if (!store.empty())
    env["CALLQ_STORE"] = store;
  for (auto& [k, v] : extra)
    env[k] = v;
  auto child = spawn_callq(CALLQ_BINARY, env);
  pid_ = child.pid;
  port_ = child.port;
  child_ = std::make_unique<spawned_server>(std::move(child));
  // On PostgreSQL, nothing of the log may land in the data directory.
  if (port_ > 0 && env.count("CALLQ_STORE"))
    CHECK_FALSE(std::filesystem::exists(data_dir + "/events"));
  // The only process on its database: it leads as soon as it has taken the
  // lock (a follower first, README "High availability").
  if (port_ > 0 && !store.empty())
    CHECK(wait_for_output("callq leads", 10'000));
  if (port_ > 0) {
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(15, 0);
    client_->set_tcp_nodelay(true);
  }
}

callq_process::~callq_process() {
  if (pid_ > 0)
    kill_hard();
  if (child_ && child_->out_fd >= 0)
    close(child_->out_fd);
}

bool callq_process::wait_for_output(const std::string& marker, int timeout_ms) {
  return child_ && testing::wait_for_output(*child_, marker, timeout_ms);
}

int callq_process::terminate() {
  client_.reset();
  int code = stop_child(pid_, SIGTERM);
  pid_ = -1;
  return code;
}

std::map<std::string, std::string> twilio_call(const std::string& sid, const std::string& from,
                                               std::map<std::string, std::string> extra) {
  std::map<std::string, std::string> f = {{"CallSid", sid}, {"AccountSid", "ACtest"},
                                          {"From", from}, {"To", "+15559990000"},
                                          {"CallStatus", "in-progress"}, {"Direction", "inbound"}};
  for (auto& [k, v] : extra)
    f[k] = v;
  return f;
}

int callq_process::wait_exit(int timeout_ms) {
  if (pid_ <= 0)
    return -2;
  // Waits on the process itself (a pidfd is readable once it exits), with
  // a deadline; no polling.
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    poll(&p, 1, timeout_ms);
    close(fd);
  }
  int st = 0;
  if (waitpid(pid_, &st, WNOHANG) != pid_)
    return -2;
  pid_ = -1;
  client_.reset();
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void callq_process::kill_hard() {
  client_.reset();
  stop_child(pid_, SIGKILL);
  pid_ = -1;
}

callq_process::result signed_webhook(httplib::Client& client, const std::string& name,
                                     const std::string& query,
                                     const std::map<std::string, std::string>& form,
                                     const std::string& idempotency_token, bool sign,
                                     const std::string& forced_signature) {
  std::string path = "/api/webhooks/twilio/" + name + query;
  std::string body;
  http::form_fields fields;
  for (auto& [k, v] : form) {
    if (!body.empty())
      body += "&";
    body += k + "=" + form_encode(v);
    fields.emplace_back(k, v);
  }
  httplib::Headers headers;
  if (!forced_signature.empty())
    headers.emplace("X-Twilio-Signature", forced_signature);
  else if (sign)
    headers.emplace("X-Twilio-Signature",
                    http::twilio_signature(twilio_token, std::string(public_base) + path, fields));
  if (!idempotency_token.empty())
    headers.emplace("I-Twilio-Idempotency-Token", idempotency_token);
  auto res = client.Post(path.c_str(), headers, body, "application/x-www-form-urlencoded");
  if (!res)  // status 0; the body says why (a test prints it)
    return {0, "no answer: " + httplib::to_string(res.error())};
  return {res->status, res->body};
}

callq_process::result callq_process::webhook(const std::string& name, const std::string& query,
                                             const std::map<std::string, std::string>& form,
                                             const std::string& idempotency_token, bool sign,
                                             const std::string& forced_signature) {
  return signed_webhook(*client_, name, query, form, idempotency_token, sign, forced_signature);
}

callq_process::result callq_process::json_request(const std::string& method, const std::string& path,
                                                  const std::string& token, const nlohmann::json& body) {
  httplib::Headers headers;
  if (!token.empty())
    headers.emplace("Authorization", "Bearer " + token);
  httplib::Result res{nullptr, httplib::Error::Unknown};
  std::string text = body.is_null() ? "" : body.dump();
  if (method == "GET")
    res = client_->Get(path.c_str(), headers);
  else if (method == "PUT")
    res = client_->Put(path.c_str(), headers, text, "application/json");
  else if (method == "DELETE")
    res = client_->Delete(path.c_str(), headers);
  else
    res = client_->Post(path.c_str(), headers, text, "application/json");
  if (!res)
    return {};
  return {res->status, res->body};
}

nlohmann::json callq_process::admin_get(const std::string& path) {
  auto r = json_request("GET", path, admin_token);
  INFO(path << " -> " << r.status << " " << r.body);
  REQUIRE(r.status == 200);
  return nlohmann::json::parse(r.body);
}

size_t callq_process::event_count() {
  auto r = json_request("GET", "/api/audit/export?format=jsonl", admin_token);
  REQUIRE(r.status == 200);
  return static_cast<size_t>(std::count(r.body.begin(), r.body.end(), '\n'));
}

void callq_process::advance(int64_t ms) {
  auto r = json_request("POST", "/api/test/clock", admin_token, {{"advanceMs", ms}});
  REQUIRE(r.status == 200);
}

std::string create_agent(callq_process& p, const std::string& id, const std::vector<std::string>& queues) {
  auto r = p.json_request("PUT", "/api/agents/" + id, admin_token,
                          {{"name", id}, {"clientIdentity", "client-" + id}, {"queues", queues}});
  INFO(r.body);
  REQUIRE(r.status == 201);
  return nlohmann::json::parse(r.body)["token"].get<std::string>();
}

nlohmann::json heartbeat(callq_process& p, const std::string& id, const std::string& token,
                         const std::string& status, bool device) {
  auto r = p.json_request("POST", "/api/agent-heartbeat", token,
                          {{"agentId", id}, {"status", status}, {"deviceRegistered", device}});
  INFO(r.body);
  REQUIRE(r.status == 200);
  return nlohmann::json::parse(r.body);
}

}  // namespace callq::testing
