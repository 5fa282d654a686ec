// How far behind the actors run, for admission: a 503 for new calls when
// the runtime is overloaded, before it starts to absorb more work than it
// can do in time (README, "Overload"). Plain atomics, no CAF: the timer
// service measures, HTTP threads read.
#pragma once

#include <atomic>
#include <cstdint>

namespace callq {

class load_gauge {
 public:
  /// New calls are refused while the smoothed lag is above `refuse_us`,
  /// and admitted again once it has fallen below `admit_us`.
  load_gauge(int64_t refuse_us = 50'000, int64_t admit_us = 20'000)
      : refuse_us_(refuse_us), admit_us_(admit_us) {}

  /// One measurement: a message that was due now ran `lag_us` late (the
  /// timer service's beat, which waits behind every runnable actor).
  void measured(int64_t lag_us) {
    // An exponentially weighted average over about 8 beats (0.8 s).
    int64_t avg = smoothed_us_.load(std::memory_order_relaxed);
    avg += (lag_us - avg) / 8;
    smoothed_us_.store(avg, std::memory_order_relaxed);
    last_us_.store(lag_us, std::memory_order_relaxed);
    if (avg > refuse_us_)
      overloaded_.store(true, std::memory_order_relaxed);
    else if (avg < admit_us_)
      overloaded_.store(false, std::memory_order_relaxed);
  }

  /// Whether new calls are refused now.
  bool overloaded() const { return overloaded_.load(std::memory_order_relaxed); }
  /// The smoothed lag, microseconds.
  int64_t lag_us() const { return smoothed_us_.load(std::memory_order_relaxed); }
  int64_t refuse_us() const { return refuse_us_; }

  /// Counts a call refused for overload.
  void refused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  uint64_t refused_total() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const int64_t refuse_us_, admit_us_;
  std::atomic<int64_t> smoothed_us_{0}, last_us_{0};
  std::atomic<bool> overloaded_{false};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace callq
