// The injected clock. Only actor shells read it; the state logic gets
// the time as an argument and replay never reads it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace callq {

/// A source of "now" in milliseconds since the Unix epoch.
class clock_source {
 public:
  virtual ~clock_source() = default;
  virtual int64_t now_ms() const = 0;
};

/// The wall clock.
class system_clock_source final : public clock_source {
 public:
  int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
};

/// A clock that moves only when told to (tests, virtual-time runs).
class manual_clock_source final : public clock_source {
 public:
  explicit manual_clock_source(int64_t start_ms) : now_(start_ms) {}
  int64_t now_ms() const override { return now_.load(); }
  /// Moves time forward by `ms` (never backwards).
  void advance(int64_t ms) { now_.fetch_add(ms > 0 ? ms : 0); }
  /// Moves time forward to `ms` (never backwards).
  void set(int64_t ms) {
    int64_t cur = now_.load();
    while (ms > cur && !now_.compare_exchange_weak(cur, ms)) {
    }
  }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace callq
