// The supervisor: watches the long-lived actors (the journal, the
// dispatcher, the timer service, the Twilio gateway). When one of them
// stops for any reason but a shutdown -- an exception escaped a handler,
// it was killed -- the runtime is told at once, and rebuilds every actor
// from the durable log in-process (README, "Supervision"). Nothing keeps
// answering as if all were well meanwhile: requests that change state get
// a 503 until the rebuild is done.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace callq {

/// Called on the supervisor's scheduler thread, so it must not block:
/// `what` is the name the actor was watched under, `why` the reason it
/// stopped.
using crash_handler = std::function<void(const std::string& what, const std::string& why)>;

/// Spawns a supervisor monitoring each (name, actor) of `watched`.
caf::actor spawn_supervisor(caf::actor_system& sys,
                            std::vector<std::pair<std::string, caf::actor>> watched,
                            crash_handler on_crash);

}  // namespace callq
