#include "tests/callq_process.hpp"

#include <csignal>
#include <cstring>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <httplib.h>

#include "actors/gateway_actor.hpp"
#include "http/signature.hpp"

#ifndef CALLQ_BINARY
#error "CALLQ_BINARY must name the callq executable"
#endif

namespace callq::testing {

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
  for (auto& [k, v] : extra)
    env[k] = v;
  std::vector<std::string> kv;
  for (auto& [k, v] : env)
    kv.push_back(k + "=" + v);
  if (const char* path = std::getenv("PATH"))
    kv.push_back(std::string("PATH=") + path);

  int out[2];
  REQUIRE(pipe(out) == 0);
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    std::vector<char*> envp;
    for (auto& s : kv)
      envp.push_back(s.data());
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>(CALLQ_BINARY), const_cast<char*>("serve"), nullptr};
    execve(CALLQ_BINARY, argv, envp.data());
    _exit(127);
  }
  close(out[1]);
  // Read stdout until the listening line, at most 30 s.
  std::string text;
  const std::string marker = "callq listening on http://127.0.0.1:";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 200) <= 0)
      continue;
    char buf[512];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0)
      break;
    text.append(buf, static_cast<size_t>(n));
    auto at = text.find(marker);
    if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
      port_ = std::atoi(text.c_str() + at + marker.size());
      break;
    }
  }
  close(out[0]);  // later output goes nowhere; the server ignores SIGPIPE
  if (port_ > 0) {
    client_ = std::make_unique<httplib::Client>("127.0.0.1", port_);
    client_->set_read_timeout(15, 0);
  }
}

callq_process::~callq_process() {
  if (pid_ > 0)
    kill_hard();
}

int callq_process::terminate() {
  if (pid_ <= 0)
    return -1;
  client_.reset();
  kill(pid_, SIGTERM);
  int st = 0;
  waitpid(pid_, &st, 0);
  pid_ = -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void callq_process::kill_hard() {
  if (pid_ <= 0)
    return;
  client_.reset();
  kill(pid_, SIGKILL);
  int st = 0;
  waitpid(pid_, &st, 0);
  pid_ = -1;
}

callq_process::result callq_process::webhook(const std::string& name, const std::string& query,
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
  auto res = client_->Post(path.c_str(), headers, body, "application/x-www-form-urlencoded");
  if (!res)
    return {};
  return {res->status, res->body};
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
