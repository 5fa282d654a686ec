// One leader among the callq processes sharing a PostgreSQL log (README,
// "High availability"):
//
//   - Leading means holding a session-level advisory lock on a connection
//     of its own. PostgreSQL releases it the moment that session ends: a
//     leader that crashed or was killed frees it at once.
//   - On taking the lock a leader bumps the epoch in callq_leader (one
//     row) and writes its name, its lock session's backend pid and the
//     time. Its log then appends only while the epoch is still its own
//     (event_log::fence_with): a leader that lost the lock can never
//     append after another took over.
//   - A leader renews `renewed_at` every renew_ms. One that stops renewing
//     (a paused process, a partition that keeps its TCP session open) for
//     lease_ms has its lock session ended by a follower
//     (pg_terminate_backend), which then takes the lock.
//   - A leader whose renewal fails or finds another epoch has lost.
//
// The thread runs until stop(); the callbacks run on it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace callq::storage {

struct leadership_options {
  std::string url;           ///< the PostgreSQL log's
  std::string holder;        ///< who this is, e.g. "host:pid"
  int64_t lease_ms = 5000;   ///< a leader silent this long is ended
  int64_t renew_ms = 1000;   ///< how often the leader renews
  int64_t poll_ms = 200;     ///< how often a follower tries the lock
  /// Where to say what happened that an operator should know (a lost
  /// connection, a leader ended for a lapsed lease); may be empty.
  std::function<void(const std::string&)> warn;
};

class leadership {
 public:
  /// `elected(epoch)`: this process leads from now on, with `epoch`.
  /// `lost(why)`: it no longer does (it may be elected again later).
  leadership(leadership_options o, std::function<void(int64_t)> elected,
             std::function<void(const std::string&)> lost);
  ~leadership();
  leadership(const leadership&) = delete;
  leadership& operator=(const leadership&) = delete;

  /// Starts trying; returns at once.
  void start();
  /// Stops (a leader's lock session is closed, which frees the lock).
  void stop();

  bool is_leader() const { return leader_.load(); }
  int64_t epoch() const { return epoch_.load(); }

 private:
  void run();

  leadership_options o_;
  std::function<void(int64_t)> elected_;
  std::function<void(const std::string&)> lost_;
  std::atomic<bool> leader_{false};
  std::atomic<int64_t> epoch_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace callq::storage
