// A test harness around the state logic: virtual time, every decided event
// kept, and replay into a fresh center for comparison.
#pragma once

#include <string>
#include <vector>

#include "actors/center.hpp"

namespace callq::testing {

class center_harness {
 public:
  explicit center_harness(policy p = {}) : rules_(p), c_(p) {}

  /// Current virtual time in ms (starts at a fixed date).
  int64_t now = 1'795'608'000'000;

  /// Runs a command at `now`, keeps its events, returns the answer.
  reply run(const cmd::command& x) {
    auto r = c_.handle(x, now);
    last_events = r.events;
    log.insert(log.end(), r.events.begin(), r.events.end());
    return r.answer;
  }

  /// Advances virtual time and lets timers fire.
  reply advance(int64_t ms) {
    now += ms;
    return run(cmd::tick{});
  }

  /// Creates an agent and makes it available with a registered device.
  void add_ready_agent(const std::string& id, std::vector<std::string> queues = {"support"}) {
    run(cmd::put_agent{id, id, "client-" + id, "hash-" + id, std::move(queues), {}});
    run(cmd::heartbeat{id, "hash-" + id, "available", true});
  }
  reply heartbeat(const std::string& id, const std::string& status = "available", bool device = true) {
    return run(cmd::heartbeat{id, "hash-" + id, status, device});
  }
  reply incoming(const std::string& sid, const std::string& from = "+15550000000",
                 std::optional<int64_t> priority = std::nullopt) {
    return run(cmd::incoming_call{sid, from, "+15559999999", "support", "", priority});
  }

  /// Number of last-run events of type T.
  template <class T> int count_last() const {
    int n = 0;
    for (auto& e : last_events)
      n += std::holds_alternative<T>(e.body);
    return n;
  }
  /// The first last-run event of type T (fails the test if none).
  template <class T> const T* find_last() const {
    for (auto& e : last_events)
      if (auto* p = std::get_if<T>(&e.body))
        return p;
    return nullptr;
  }
  /// Every logged event of type T.
  template <class T> std::vector<T> all() const {
    std::vector<T> out;
    for (auto& e : log)
      if (auto* p = std::get_if<T>(&e.body))
        out.push_back(*p);
    return out;
  }

  /// The current offer id of a call.
  std::string offer_of(const std::string& sid) const {
    auto* x = c_.find_call(sid);
    return x ? x->offer_id : "";
  }

  /// Digest of a center rebuilt from the whole log.
  std::string replayed_digest() const {
    center fresh(rules_);
    for (auto& e : log)
      fresh.apply(e);
    return fresh.digest();
  }

  center& state() { return c_; }

  std::vector<events::event> log, last_events;

 private:
  policy rules_;
  center c_;
};

}  // namespace callq::testing
