#include "tests/spawn_server.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace callq::testing {

spawned_server spawn_callq(const std::string& binary, const std::map<std::string, std::string>& env,
                           int timeout_s) {
  std::vector<std::string> kv;
  for (auto& [k, v] : env)
    kv.push_back(k + "=" + v);
  if (const char* path = std::getenv("PATH"))
    kv.push_back(std::string("PATH=") + path);
  spawned_server out;
  int fds[2];
  if (pipe(fds) != 0)
    return out;
  out.pid = fork();
  if (out.pid < 0)
    return out;
  if (out.pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> envp;
    for (auto& s : kv)
      envp.push_back(s.data());
    envp.push_back(nullptr);
    char* argv[] = {const_cast<char*>(binary.c_str()), const_cast<char*>("serve"), nullptr};
    execve(binary.c_str(), argv, envp.data());
    _exit(127);
  }
  close(fds[1]);
  std::string text;
  const std::string marker = "callq listening on http://";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, 200) <= 0)
      continue;
    char buf[512];
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0)
      break;
    text.append(buf, static_cast<size_t>(n));
    auto at = text.find(marker);
    auto eol = at == std::string::npos ? std::string::npos : text.find('\n', at);
    if (eol != std::string::npos) {
      auto colon = text.rfind(':', eol);
      out.port = std::atoi(text.c_str() + colon + 1);
      out.out_text = text.substr(eol + 1);
      break;
    }
  }
  // Kept open: the server prints a line per role change (a few bytes).
  out.out_fd = fds[0];
  return out;
}

bool wait_for_output(spawned_server& s, const std::string& marker, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (auto at = s.out_text.find(marker); at != std::string::npos) {
      auto eol = s.out_text.find('\n', at);
      s.out_text.erase(0, eol == std::string::npos ? s.out_text.size() : eol + 1);
      return true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0 || s.out_fd < 0)
      return false;
    pollfd p{s.out_fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0)
      continue;
    char buf[512];
    ssize_t n = read(s.out_fd, buf, sizeof buf);
    if (n <= 0)
      return false;
    s.out_text.append(buf, static_cast<size_t>(n));
  }
}

long rss_kib_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stol(line.substr(6));
  return -1;
}

namespace {

/// The fields of /proc/<pid>/stat from the third (state) on, as proc(5)
/// numbers them from 1; empty if unknown.
std::vector<std::string> stat_fields_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (2nd field) may hold spaces: count fields after it.
  auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 > text.size())
    return {};
  std::istringstream fields(text.substr(close + 2));
  std::vector<std::string> out;
  for (std::string f; fields >> f;)
    out.push_back(f);
  return out;
}

/// Field `n` (proc(5)'s numbering, n >= 3) of `fields` as a number.
unsigned long long stat_field(const std::vector<std::string>& fields, size_t n) {
  return n - 3 < fields.size() ? std::stoull(fields[n - 3]) : 0;
}

}  // namespace

double cpu_seconds_of(pid_t pid) {
  auto fields = stat_fields_of(pid);
  if (fields.empty())
    return -1;
  return static_cast<double>(stat_field(fields, 14) + stat_field(fields, 15)) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

long minor_faults_of(pid_t pid) {
  auto fields = stat_fields_of(pid);
  return fields.empty() ? -1 : static_cast<long>(stat_field(fields, 10));
}

long context_switches_of(pid_t pid) {
  std::error_code ec;
  long total = 0;
  for (auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0)
        total += std::stol(line.substr(line.find(':') + 1));
  }
  return ec ? -1 : total;
}

int stop_child(pid_t pid, int sig) {
  if (pid <= 0)
    return -1;
  kill(pid, sig);
  int st = 0;
  if (waitpid(pid, &st, 0) != pid)
    return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace callq::testing
