// Crash tests: a child process appends and reports every acknowledged
// sequence number through a pipe; the parent kills it with SIGKILL
// mid-stream and learns the last acknowledgement.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <sys/wait.h>
#include <unistd.h>

namespace callq::testing {

/// Forks a child that runs `append_one()` in a loop (each call returns the
/// acknowledged sequence number, 0 on failure) and reports each number.
/// Kills it with SIGKILL once `at_least` were acknowledged; returns the
/// last acknowledged sequence number (including any reported before the
/// kill landed), or 0 if the child failed.
inline uint64_t append_until_killed(const std::function<void()>& child_setup,
                                    const std::function<uint64_t()>& append_one,
                                    uint64_t at_least) {
  int fds[2];
  if (pipe(fds) != 0)
    return 0;
  pid_t child = fork();
  if (child < 0)
    return 0;
  if (child == 0) {
    close(fds[0]);
    child_setup();
    for (;;) {
      uint64_t seq = append_one();
      if (seq == 0 || write(fds[1], &seq, sizeof seq) != sizeof seq)
        _exit(4);
    }
  }
  close(fds[1]);
  uint64_t acked = 0, seq = 0;
  while (acked < at_least && read(fds[0], &seq, sizeof seq) == sizeof seq)
    acked = seq;
  kill(child, SIGKILL);
  int st = 0;
  waitpid(child, &st, 0);
  while (read(fds[0], &seq, sizeof seq) == sizeof seq)
    acked = seq;  // acknowledged before the kill landed
  close(fds[0]);
  return acked;
}

}  // namespace callq::testing
