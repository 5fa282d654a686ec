// The durable outbox every entity actor uses: its appends go to the one
// journal, and the REST jobs that depend on them are held until the
// journal says they are durable. Because the journal writes in the order
// appends arrive, an actor that appends before it sends any message that
// depends on the append keeps cause before effect across actors; HTTP
// answers wait for a journal barrier in the runtime.
#pragma once

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/effects.hpp"
#include "actors/messages.hpp"

namespace callq {

class outbox {
 public:
  /// Nothing is waiting to be durable.
  bool idle() const { return durable_ >= submitted_; }

  /// Appends `batch` for `self` through `journal`; `jobs` go to `gateway`
  /// once it is durable; then `after_durable()` runs in the actor. After a
  /// failed append the actor's state is ahead of the log: its jobs are
  /// never sent, and the runtime rebuilds every actor from the durable log
  /// once writing is possible again (the journal has marked the log not
  /// writable, so nothing else is answered meanwhile).
  template <class Self, class F>
  void append(Self* self, const caf::actor& journal, const caf::actor& gateway,
              journal_batch batch, std::vector<rest_job> jobs, F after_durable) {
    uint64_t id = ++submitted_;
    if (!jobs.empty())
      held_.emplace_back(id, std::move(jobs));
    self->request(journal, caf::infinite, append_atom::value, std::move(batch))
        .then(
            [this, self, id, gateway, after_durable](uint64_t) {
              durable_ = std::max(durable_, id);
              while (!held_.empty() && held_.front().first <= durable_) {
                for (auto& j : held_.front().second)
                  self->send(gateway, std::move(j));
                held_.pop_front();
              }
              after_durable();
            },
            [](caf::error&) {});
  }

 private:
  uint64_t submitted_ = 0, durable_ = 0;
  std::deque<std::pair<uint64_t, std::vector<rest_job>>> held_;
};

}  // namespace callq
