// A scripted day at the contact centre, decided by the real actors and
// written to a real event log: the input of the replay and export tests.
#pragma once

#include <memory>
#include <string>

#include "tests/actor_harness.hpp"

namespace callq::testing {

/// Runs the scenario (call answered, call abandoned, no-answer then
/// answered, callback requested and completed, agent auto-paused, agent
/// expired; a state digest recorded, then the server stopped, which
/// records another) with the server writing to `data_dir`'s log. Returns
/// the digest of the live state at the end.
inline std::string write_scenario(const std::string& data_dir) {
  actor_harness x({}, 0, data_dir);
  x.run(cmd::put_caller{"+15551230001", "Ada", 5});
  x.add_ready_agent("alice");
  x.now += 1000;
  x.add_ready_agent("bob");

  // 1. Ada's call: answered by alice at once, 95 s talk, agent hangs up.
  x.now += 1000;
  x.incoming("CA1", "+15551230001");
  std::string o1 = x.offer_of("CA1");
  x.now += 4000;
  x.run(cmd::agent_leg_status{o1, "in-progress"});
  x.now += 95'000;
  x.run(cmd::dial_result{o1, "completed", "in-progress", 95});

  // 2. A call rings bob, he misses it, alice (after wrap-up) answers.
  x.now += 20'000;
  x.heartbeat("alice");
  x.heartbeat("bob");
  x.incoming("CA2", "+447700900123");
  std::string o2 = x.offer_of("CA2");
  x.now += 20'000;
  x.run(cmd::dial_result{o2, "no-answer", "in-progress", 0});
  std::string o3 = x.offer_of("CA2");
  x.now += 3000;
  x.run(cmd::agent_leg_status{o3, "in-progress"});
  x.now += 60'000;
  x.run(cmd::call_status{"CA2", "completed"});  // the caller hangs up

  // 3. Nobody free: a caller hangs up after 30 s.
  x.heartbeat("alice", "busy");
  x.heartbeat("bob", "busy");
  x.incoming("CA3", "+15551230003");
  x.now += 30'000;
  x.run(cmd::queue_left{"CA3", "hangup"});

  // 4. A long wait ends in a callback, answered later.
  x.incoming("CA4", "+15551230004");
  x.now += 10'000;
  x.heartbeat("alice", "busy");
  x.heartbeat("bob", "busy");
  x.advance(590'000);
  x.run(cmd::hold_poll{"CA4"});
  x.run(cmd::callback_response{"CA4", "1"});
  x.run(cmd::queue_left{"CA4", "leave"});
  x.heartbeat("alice", "available");
  std::string cb = x.state().find_call("CA4")->routing().callback_id;
  x.now += 5000;
  x.run(cmd::callback_connect{cb, "CAleg1"});
  x.now += 120'000;
  x.run(cmd::callback_result{cb, "completed", 120});

  // 5. bob misses three offers and is auto-paused; alice goes silent.
  x.heartbeat("bob", "available");
  x.heartbeat("alice", "break");
  for (int i = 0; i < 3; ++i) {
    std::string sid = "CA5" + std::to_string(i);
    x.incoming(sid, "+1555123100" + std::to_string(i));
    x.now += 20'000;
    x.run(cmd::dial_result{x.offer_of(sid), "no-answer", "in-progress", 0});
    x.run(cmd::call_status{sid, "completed"});
    x.heartbeat("bob", "available");
  }
  x.advance(61'000);
  x.run(cmd::record_digest{});
  return x.state().digest();
}

}  // namespace callq::testing
