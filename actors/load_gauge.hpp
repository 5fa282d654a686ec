// How far behind callq runs, for admission: a 503 for new calls when it is
// overloaded, before it absorbs more work than it can do in time, and no
// heartbeat expiry while heartbeats wait to be handled (README,
// "Overload is refused, not absorbed"). Plain atomics, no CAF: the timer
// service and the front door measure, HTTP threads and agents read.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace callq {

class load_gauge {
 public:
  /// New calls are refused while the load is above `refuse_us`, and
  /// admitted again once it has fallen below `admit_us`.
  load_gauge(int64_t refuse_us = 50'000, int64_t admit_us = 20'000)
      : refuse_us_(refuse_us), admit_us_(admit_us) {}

  /// The actors: a message that was due now ran `lag_us` late (the timer
  /// service's beat, which waits behind every runnable actor). Smoothed
  /// over about 8 beats.
  void measured(int64_t lag_us) {
    int64_t avg = smoothed_lag_us_.load(std::memory_order_relaxed);
    avg += (lag_us - avg) / 8;
    smoothed_lag_us_.store(avg, std::memory_order_relaxed);
    update();
  }

  /// The front door: the oldest Twilio webhook and the oldest agent
  /// request (heartbeats) waiting for a worker thread have waited this
  /// long (every 100 ms).
  void requests_waited(int64_t twilio_us, int64_t agent_us) {
    twilio_wait_us_.store(twilio_us, std::memory_order_relaxed);
    agent_wait_us_.store(agent_us, std::memory_order_relaxed);
    update();
  }

  /// Whether new calls are refused now.
  bool overloaded() const { return overloaded_.load(std::memory_order_relaxed); }
  /// Whether heartbeats wait for a worker thread now: an agent's heartbeat
  /// may be among them, so no heartbeat expires meanwhile.
  bool heartbeats_waiting() const { return agent_wait_us_.load(std::memory_order_relaxed) > 0; }
  /// The load compared with the bound: the actors' smoothed lag or the
  /// oldest waiting request, whichever is larger, microseconds.
  int64_t lag_us() const {
    return std::max({smoothed_lag_us_.load(std::memory_order_relaxed),
                     twilio_wait_us_.load(std::memory_order_relaxed),
                     agent_wait_us_.load(std::memory_order_relaxed)});
  }
  int64_t refuse_us() const { return refuse_us_; }

  /// Counts a call refused for overload.
  void refused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t refused_total() const { return refused_.load(std::memory_order_relaxed); }

 private:
  void update() {
    int64_t load = lag_us();
    if (load > refuse_us_)
      overloaded_.store(true, std::memory_order_relaxed);
    else if (load < admit_us_)
      overloaded_.store(false, std::memory_order_relaxed);
  }

  const int64_t refuse_us_, admit_us_;
  std::atomic<int64_t> smoothed_lag_us_{0}, twilio_wait_us_{0}, agent_wait_us_{0};
  std::atomic<bool> overloaded_{false};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace callq
