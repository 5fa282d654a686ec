// The ids callq hands out: arrival numbers of calls, offer ids ("OF<n>")
// and callback ids ("CB<n>"). Shared by the actors (atomic counters, so no
// actor is asked for one), seeded at start-up from the largest the log
// holds, so a restarted server never reuses one.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace callq {

class id_source {
 public:
  /// Starts after the given largest numbers already used.
  void seed(uint64_t call_order, uint64_t offer, uint64_t callback) {
    call_order_ = call_order;
    offer_ = offer;
    callback_ = callback;
  }
  uint64_t next_call_order() { return ++call_order_; }
  std::string next_offer_id() { return "OF" + std::to_string(++offer_); }
  std::string next_callback_id() { return "CB" + std::to_string(++callback_); }

 private:
  std::atomic<uint64_t> call_order_{0}, offer_{0}, callback_{0};
};

}  // namespace callq
