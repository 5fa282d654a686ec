// What the runtime's own files share (not part of its interface): the
// actor system and its environment, and a request from a non-actor thread.
// runtime.cpp starts and stops; runtime_boot.cpp rebuilds state and spawns
// the actors; runtime_routes.cpp routes commands to mailboxes;
// runtime_role.cpp leads and follows a shared log; runtime_watch.cpp
// watches the disk and the supervised actors.
#pragma once

#include <atomic>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "actors/entity_env.hpp"
#include "actors/runtime.hpp"

namespace callq {

struct runtime::impl {
  explicit impl(const runtime_options& o) : cfg(make_config(o)), system(cfg) {}
  static caf::actor_system_config make_config(const runtime_options& o) {
    caf::actor_system_config c;
    c.set("scheduler.max-threads", o.scheduler_threads);
    c.set("scheduler.policy", o.deterministic        ? caf::atom("testing")
                              : o.scheduler_stealing ? caf::atom("stealing")
                                                     : caf::atom("sharing"));
    if (o.scheduler_max_throughput > 0)
      c.set("scheduler.max-throughput", o.scheduler_max_throughput);
    return c;
  }
  caf::actor_system_config cfg;
  caf::actor_system system;
  std::shared_ptr<entity_env> env;
  caf::actor supervisor;  ///< watches the journal, dispatcher, timers and gateway
  /// Deterministic mode: runs every pending message, in a seeded order.
  std::function<void()> pump;
};

namespace runtime_detail {

inline constexpr auto ask_timeout = std::chrono::seconds(10);

/// CAF 0.17 keeps, per thread, a counted reference to the logger of the
/// last actor system the thread made or used through a scoped_actor, and
/// an actor system's destructor waits until its logger is destroyed. A
/// thread that used one system and lives on (an HTTP worker, the role
/// thread) would make a later teardown (stepping down, recovering from a
/// full disk) wait forever: every such thread lets go once it is done.
inline void forget_actor_system() { caf::logger::set_current_actor_system(nullptr); }

/// One request from a non-actor thread, waiting for its answer (in
/// deterministic mode, `pump` first runs everything it causes). With
/// `crashes` (a request on behalf of a client, e.g. an HTTP request), it
/// also gives up with an error once `*crashes` moves past the value it had
/// when the request was sent: a supervised actor died, and the actor asked
/// may be waiting on it for an answer that died with it. Without this such
/// a request would wait for the whole ask timeout, and the rebuild (which
/// waits for requests under way) with it. It looks every 100 ms, and only
/// while an answer is outstanding.
template <class T, class... Ts>
inline bool ask_actor(caf::actor_system& sys, const std::function<void()>& pump,
                      const std::atomic<uint64_t>* crashes, const caf::actor& to, T* out,
                      std::string* why, Ts&&... msg) {
  bool ok = false;
  {
    caf::scoped_actor self{sys};
    uint64_t seen = crashes ? crashes->load() : 0;
    auto handle = self->request(to, ask_timeout, std::forward<Ts>(msg)...);
    if (pump)
      pump();
    auto on_answer = [&](T& v) {
      *out = std::move(v);
      ok = true;
    };
    auto on_error = [&](caf::error& err) { *why = sys.render(err); };
    if (!crashes) {
      handle.receive(on_answer, on_error);
    } else {
      for (bool done = false; !done;) {
        caf::blocking_actor::accept_one_cond rc;
        self->varargs_receive(
            rc, handle.id(),
            [&](T& v) {
              on_answer(v);
              done = true;
            },
            [&](caf::error& err) {
              on_error(err);
              done = true;
            },
            caf::after(std::chrono::milliseconds(100)) >> [&] {
              if (crashes->load() != seen) {
                *why = "a supervised actor stopped while this request waited; retry";
                done = true;
              }
            });
      }
    }
  }
  forget_actor_system();
  return ok;
}

/// ask_actor() for the runtime's own requests (start-up, digests, tests).
template <class T, class... Ts>
inline bool request(caf::actor_system& sys, const std::function<void()>& pump, const caf::actor& to,
                    T* out, std::string* why, Ts&&... msg) {
  return ask_actor(sys, pump, nullptr, to, out, why, std::forward<Ts>(msg)...);
}

/// ask_actor() on behalf of a client: gives up when a supervised actor
/// crashes (`crashes` moves).
template <class T, class... Ts>
inline bool request_unless_crashed(caf::actor_system& sys, const std::function<void()>& pump,
                                   const std::atomic<uint64_t>& crashes, const caf::actor& to, T* out,
                                   std::string* why, Ts&&... msg) {
  return ask_actor(sys, pump, &crashes, to, out, why, std::forward<Ts>(msg)...);
}

}  // namespace runtime_detail

}  // namespace callq
