#include "tests/browser.hpp"

#include <chrono>
#include <csignal>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CALLQ_PUPPET
#error "CALLQ_PUPPET must name tests/browser/puppet.mjs"
#endif

namespace callq::testing {

browser::browser() {
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) {
    why_ = "pipe failed";
    return;
  }
  pid_ = fork();
  if (pid_ == 0) {
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    close(to_child[0]);
    close(to_child[1]);
    close(from_child[0]);
    close(from_child[1]);
    execlp("node", "node", CALLQ_PUPPET, static_cast<char*>(nullptr));
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  in_ = to_child[1];
  out_ = from_child[0];
  signal(SIGPIPE, SIG_IGN);  // a puppet that died: write() fails, no signal
  std::string first = read_line(60000);
  auto j = nlohmann::json::parse(first, nullptr, false);
  ready_ = j.is_object() && j.value("ready", false);
  if (!ready_)
    why_ = "the browser did not start (node " CALLQ_PUPPET
           "; run ./scripts/browser-deps.sh): " +
           (first.empty() ? std::string("no answer") : first);
}

browser::~browser() {
  if (pid_ <= 0)
    return;
  // The puppet closes Chromium and exits when told to; one that did not
  // answer is killed. Either way it is waited for.
  if (!ready_ || !call({{"op", "close"}}, 10000).value("ok", false))
    kill(pid_, SIGKILL);
  close(in_);
  close(out_);
  waitpid(pid_, nullptr, 0);
}

std::string browser::read_line(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0)
      return {};
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0)
      continue;
    char chunk[65536];
    ssize_t n = read(out_, chunk, sizeof chunk);
    if (n <= 0)
      return {};
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

nlohmann::json browser::call(const nlohmann::json& command, int timeout_ms) {
  std::string line = command.dump() + "\n";
  if (write(in_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    return {{"ok", false}, {"error", "the puppet is gone"}};
  std::string reply = read_line(timeout_ms);
  auto j = nlohmann::json::parse(reply, nullptr, false);
  if (!j.is_object())
    return {{"ok", false}, {"error", "no answer from the puppet: " + reply}};
  return j;
}

bool browser::open(const std::string& url) {
  return call({{"op", "open"}, {"url", url}}).value("ok", false);
}

long browser::wait(const std::string& js, int timeout_ms) {
  auto r = call({{"op", "wait"}, {"js", js}, {"timeoutMs", timeout_ms}}, timeout_ms + 10000);
  return r.value("ok", false) ? r.value("ms", 0L) : -1;
}

nlohmann::json browser::eval(const std::string& js) {
  auto r = call({{"op", "eval"}, {"js", js}});
  return r.value("ok", false) ? r["value"] : nlohmann::json{{"error", r.value("error", "")}};
}

bool browser::screenshot(const std::string& path) {
  return call({{"op", "screenshot"}, {"path", path}}).value("ok", false);
}

}  // namespace callq::testing
