// The durable outbox every entity actor (and the dispatcher, for the
// queue streams) uses: its appends go to the one journal, and what depends
// on them -- REST jobs, the answers to requests -- is held until the
// journal says they are durable. Because the journal writes in the order
// appends arrive, an actor that appends before it sends any message that
// depends on the append keeps cause before effect across actors; an answer
// held by when_durable() therefore leaves only once everything its request
// caused in this actor, and in every actor this one waited for, is on disk
// (README, "Durability").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/effects.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"

namespace callq {

class outbox {
 public:
  /// Called with an empty string once what it waits for is durable, or
  /// with the reason the log refused it.
  using waiter = std::function<void(const std::string& error)>;

  /// Nothing is waiting to be durable.
  bool idle() const { return durable_ >= submitted_; }
  /// Appends this outbox submitted that the log refused.
  uint64_t failures() const { return failures_; }

  /// Appends `batch` for `self` through `journal`; `jobs` go to `gateway`
  /// once it is durable; then `after_durable()` runs in the actor.
  ///
  /// A refused append (a full disk, a log that cannot be written) is
  /// never dropped silently: it is logged, counted (failures()), its jobs
  /// are never sent, and every answer waiting in when_durable() for it is
  /// told why. The actor's state is then ahead of the log; the journal has
  /// marked the log not writable, and the runtime rebuilds every actor
  /// from the durable log once writing is possible again.
  template <class Self, class F>
  void append(Self* self, const caf::actor& journal, const caf::actor& gateway,
              journal_batch batch, std::vector<rest_job> jobs, F after_durable) {
    uint64_t id = ++submitted_;
    if (!jobs.empty())
      held_.emplace_back(id, std::move(jobs));
    self->request(journal, caf::infinite, append_atom::value, std::move(batch))
        .then(
            [this, self, id, gateway, after_durable](uint64_t) {
              settle(id, {}, [&](std::vector<rest_job>& js) {
                for (auto& j : js)
                  self->send(gateway, std::move(j));
              });
              after_durable();
            },
            [this, self, id, after_durable](caf::error& err) {
              std::string why = self->system().render(err);
              ++failures_;
              log_line(log_level::error, std::string(self->name()) + ": an append was refused (" + why +
                                             "); its REST jobs are not sent and its answers fail");
              settle(id, why, [](std::vector<rest_job>&) {});
              after_durable();
            });
  }

  /// Runs `w` once every append submitted so far has been answered by the
  /// journal (at once when none is waiting): with "" when all of them are
  /// durable, with the reason when one was refused.
  void when_durable(waiter w) {
    if (idle()) {
      w(last_error_);
      return;
    }
    waiters_.emplace_back(submitted_, std::move(w));
  }

 private:
  /// Append `id` was answered (`error` empty: durable). The journal
  /// answers in submission order, so everything up to `id` is settled.
  template <class SendJobs>
  void settle(uint64_t id, const std::string& error, SendJobs send_jobs) {
    if (id >= durable_) {
      durable_ = id;
      last_error_ = error;
    }
    size_t n = 0;
    for (; n < held_.size() && held_[n].first <= durable_; ++n)
      if (error.empty())
        send_jobs(held_[n].second);
    held_.erase(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(n));
    if (held_.empty())
      held_ = {};  // a waiting call keeps no capacity (48 bytes each)
    std::vector<std::pair<uint64_t, waiter>> due;
    if (!waiters_.empty() && waiters_.back().first <= durable_) {
      due.swap(waiters_);  // every waiter is due: the common case
    } else {
      for (n = 0; n < waiters_.size() && waiters_[n].first <= durable_; ++n)
        due.push_back(std::move(waiters_[n]));
      waiters_.erase(waiters_.begin(), waiters_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    for (auto& [id, w] : due)  // a waiter may append, or wait, again
      w(error);
  }

  uint64_t submitted_ = 0, durable_ = 0, failures_ = 0;
  std::string last_error_;  ///< of the last append answered ("" if durable)
  // Vectors, not deques: an empty std::deque allocates ~600 bytes, and
  // every call and agent actor has an outbox (they hold 0-2 entries).
  std::vector<std::pair<uint64_t, std::vector<rest_job>>> held_;
  std::vector<std::pair<uint64_t, waiter>> waiters_;
};

}  // namespace callq
