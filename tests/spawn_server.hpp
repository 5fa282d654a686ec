// Starts `callq serve` as a child process with a given environment and
// reads the port from its "callq listening on" line. Shared by the
// end-to-end tests and the webhook load benchmark.
#pragma once

#include <map>
#include <string>
#include <sys/types.h>

namespace callq::testing {

/// A started server: its pid and port (port 0: it did not start in time),
/// and its stdout, still open for wait_for_output().
struct spawned_server {
  pid_t pid = -1;
  int port = 0;
  int out_fd = -1;       ///< the read end of its stdout; the caller closes it
  std::string out_text;  ///< what it printed after the listening line, unread
};

/// Waits, reading the server's stdout, until it prints a line holding
/// `marker` after everything already matched; false after `timeout_ms`
/// or when its stdout closed. Lines before the match are consumed.
bool wait_for_output(spawned_server& s, const std::string& marker, int timeout_ms);

/// Runs `binary serve` with exactly `env` (plus PATH), waiting up to
/// `timeout_s` for the listening line.
spawned_server spawn_callq(const std::string& binary, const std::map<std::string, std::string>& env,
                           int timeout_s = 30);

/// The resident set size of process `pid` in KiB (VmRSS), -1 if unknown.
long rss_kib_of(pid_t pid);

/// The CPU time (user and system, all threads) process `pid` has used so
/// far, in seconds; -1 if unknown.
double cpu_seconds_of(pid_t pid);

/// The minor page faults (a page touched for the first time, or mapped
/// again) of all threads of process `pid` so far; -1 if unknown.
long minor_faults_of(pid_t pid);

/// The context switches (voluntary and not) of all live threads of
/// process `pid` so far; -1 if unknown.
long context_switches_of(pid_t pid);

/// Sends `sig` and waits; returns the exit status, or -1 if it did not exit.
int stop_child(pid_t pid, int sig);

}  // namespace callq::testing
