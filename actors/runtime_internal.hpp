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
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/entity_env.hpp"
#include "actors/runtime.hpp"

namespace callq {

namespace runtime_detail {

/// The blocking actors through which non-actor threads (HTTP workers, the
/// runtime's own calls) ask actors, kept for reuse. A scoped_actor made per
/// request costs a spawn, a registration and, at its end, an event for
/// CAF's clock thread; one taken from here costs two uncontended locks.
/// Each is used by one thread at a time; one whose request was given up
/// (its answer may still come) is dropped rather than returned, so a kept
/// one's mailbox is always empty. Hidden: they do not keep the actor system
/// from shutting down, and the pool is destroyed before the system.
class requester_pool {
 public:
  explicit requester_pool(caf::actor_system& sys) : sys_(sys) {}
  requester_pool(const requester_pool&) = delete;
  requester_pool& operator=(const requester_pool&) = delete;

  caf::actor_system& system() const { return sys_; }

  /// A requester for the calling thread's exclusive use until give_back().
  std::unique_ptr<caf::scoped_actor> take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        auto self = std::move(free_.back());
        free_.pop_back();
        return self;
      }
    }
    return std::make_unique<caf::scoped_actor>(sys_, true);
  }

  /// Returns a requester whose mailbox holds nothing.
  void give_back(std::unique_ptr<caf::scoped_actor> self) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(self));
  }

 private:
  caf::actor_system& sys_;
  std::mutex mu_;
  std::vector<std::unique_ptr<caf::scoped_actor>> free_;
};

}  // namespace runtime_detail

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
  runtime_detail::requester_pool askers{system};  ///< destroyed before `system`
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
/// deterministic mode, `pump` first runs everything it causes) at most
/// ask_timeout. With `crashes` (a request on behalf of a client, e.g. an
/// HTTP request), it also gives up with an error once `*crashes` moves past
/// the value it had when the request was sent: a supervised actor died, and
/// the actor asked may be waiting on it for an answer that died with it.
/// Without this such a request would wait for the whole ask timeout, and
/// the rebuild (which waits for requests under way) with it. It looks every
/// 100 ms, and only while an answer is outstanding. The request itself has
/// no CAF timeout: that would cost two events for CAF's clock thread per
/// request; the deadline is kept here instead.
template <class T, class... Ts>
inline bool ask_actor(requester_pool& pool, const std::function<void()>& pump,
                      const std::atomic<uint64_t>* crashes, const caf::actor& to, T* out,
                      std::string* why, Ts&&... msg) {
  bool ok = false;
  bool gave_up = false;
  {
    auto self = pool.take();
    uint64_t seen = crashes ? crashes->load() : 0;
    auto deadline = std::chrono::steady_clock::now() + ask_timeout;
    auto handle = (*self)->request(to, caf::infinite, std::forward<Ts>(msg)...);
    if (pump)
      pump();
    for (bool done = false; !done;) {
      caf::blocking_actor::accept_one_cond rc;
      (*self)->varargs_receive(
          rc, handle.id(),
          [&](T& v) {
            *out = std::move(v);
            ok = true;
            done = true;
          },
          [&](caf::error& err) {
            *why = pool.system().render(err);
            done = true;
          },
          caf::after(std::chrono::milliseconds(100)) >> [&] {
            if (crashes && crashes->load() != seen) {
              *why = "a supervised actor stopped while this request waited; retry";
              done = gave_up = true;
            } else if (std::chrono::steady_clock::now() >= deadline) {
              *why = "no answer within " + std::to_string(ask_timeout.count()) + " s";
              done = gave_up = true;
            }
          });
    }
    if (!gave_up)
      pool.give_back(std::move(self));
  }
  forget_actor_system();
  return ok;
}

/// ask_actor() for the runtime's own requests (start-up, digests, tests).
template <class T, class... Ts>
inline bool request(requester_pool& pool, const std::function<void()>& pump, const caf::actor& to,
                    T* out, std::string* why, Ts&&... msg) {
  return ask_actor(pool, pump, nullptr, to, out, why, std::forward<Ts>(msg)...);
}

/// ask_actor() on behalf of a client: gives up when a supervised actor
/// crashes (`crashes` moves).
template <class T, class... Ts>
inline bool request_unless_crashed(requester_pool& pool, const std::function<void()>& pump,
                                   const std::atomic<uint64_t>& crashes, const caf::actor& to, T* out,
                                   std::string* why, Ts&&... msg) {
  return ask_actor(pool, pump, &crashes, to, out, why, std::forward<Ts>(msg)...);
}

}  // namespace runtime_detail

}  // namespace callq
