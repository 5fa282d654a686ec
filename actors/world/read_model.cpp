#include "actors/world/read_model.hpp"

#include <algorithm>
#include <chrono>

namespace callq {

namespace {

/// Spare worlds kept besides the newest: one is enough while readers let
/// go of a version within a batch; the second spares a copy when a reader
/// holds one longer (a status view, a digest, a descheduled thread).
constexpr size_t max_spares = 2;

/// A spare further behind than this many recorded events is dropped
/// rather than brought up to date: a copy costs less then, and the
/// records it needs are let go.
constexpr size_t max_events_behind = 8192;

/// Whether a reader still holds `w` (the writer's own reference aside).
/// Readers only take the newest version, so a spare's count only falls.
bool held(const std::shared_ptr<world>& w) {
  if (w.use_count() > 1)
    return true;
  // The readers have let go, and what they read happens before the
  // writer's change (use_count() is a relaxed load; the fence pairs with
  // the release of their decrement).
  std::atomic_thread_fence(std::memory_order_acquire);
  return false;
}

/// Microseconds from `t0` to now.
uint64_t micros_since(std::chrono::steady_clock::time_point t0) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - t0)
                                   .count());
}

}  // namespace

read_model::read_model(world w) {
  reset(std::move(w));
}

std::shared_ptr<const world> read_model::version() const {
  return std::atomic_load(&current_);
}

status_view read_model::status(int64_t now_ms, size_t waiting_limit) const {
  auto heartbeats = heartbeats_.times();
  auto v = version();
  return v->status(now_ms, waiting_limit, &heartbeats);
}

void read_model::reset(world w) {
  spares_.clear();
  behind_.clear();
  publish(std::make_shared<world>(std::move(w)));
  spares_.clear();
  stats_.versions += 1;
  // Readers only read the newest world, and the writer changes only spares:
  // the copy reads it beside both.
  copying_ = std::async(std::launch::async, [w = std::shared_ptr<const world>(newest_)] {
    return std::make_shared<world>(*w);
  });
}

void read_model::apply(uint64_t first_seq, std::vector<events::event> evs,
                       std::vector<shared_call_state> states) {
  if (evs.empty())
    return;
  auto t0 = std::chrono::steady_clock::now();
  std::shared_ptr<world> w = free_spare();
  if (w) {
    catch_up(*w, true);
  } else {
    w = std::make_shared<world>(*newest_);
    stats_.copies += 1;
  }
  batch_record rec{first_seq, std::move(evs), std::move(states)};
  apply_record(*w, rec);
  behind_.push_back(std::move(rec));
  publish(std::move(w));
  trim();
  stats_.versions += 1;
  stats_.applied(micros_since(t0));
}

void read_model::prepare() {
  std::shared_ptr<world> w = free_spare();
  if (!w)
    return;
  auto t0 = std::chrono::steady_clock::now();
  catch_up(*w, false);
  spares_.push_front(std::move(w));
  trim();
  stats_.prepared(micros_since(t0));
}

std::shared_ptr<world> read_model::free_spare() {
  if (copying_.valid()) {
    spares_.push_back(copying_.get());
    stats_.copies += 1;
  }
  auto best = spares_.end();
  for (auto i = spares_.begin(); i != spares_.end(); ++i)
    if (!held(*i) && (best == spares_.end() || (*i)->last_seq() > (*best)->last_seq()))
      best = i;
  if (best == spares_.end())
    return nullptr;
  std::shared_ptr<world> w = std::move(*best);
  spares_.erase(best);
  return w;
}

void read_model::catch_up(world& w, bool before_answers) {
  for (auto& rec : behind_) {
    if (rec.last_seq() <= w.last_seq())
      continue;
    apply_record(w, rec);
    stats_.catch_up_batches += 1;
    if (before_answers)
      stats_.catch_up_before_answers += 1;
  }
}

void read_model::apply_record(world& w, const batch_record& rec) {
  settled_calls settled(rec.states);
  uint64_t seq = rec.first_seq;
  for (auto& e : rec.events) {
    if (seq > w.last_seq())
      w.apply(seq, e, settled);
    ++seq;
  }
  for (auto& s : rec.states)
    w.adopt(s);  // those apply() could not take (an older schema's arrival)
}

void read_model::publish(std::shared_ptr<world> w) {
  std::atomic_store(&current_, std::shared_ptr<const world>(w));
  if (newest_)
    spares_.push_front(std::move(newest_));
  newest_ = std::move(w);
}

void read_model::trim() {
  auto oldest = [&] {
    return std::min_element(spares_.begin(), spares_.end(), [](auto& a, auto& b) {
      return a->last_seq() < b->last_seq();
    });
  };
  while (spares_.size() > max_spares)
    spares_.erase(oldest());
  size_t recorded = 0;
  for (auto& rec : behind_)
    recorded += rec.events.size();
  for (;;) {
    uint64_t needed = newest_->last_seq();  // records after this are needed
    for (auto& s : spares_)
      needed = std::min(needed, s->last_seq());
    while (!behind_.empty() && behind_.front().last_seq() <= needed) {
      recorded -= behind_.front().events.size();
      behind_.pop_front();
    }
    if (recorded <= max_events_behind || spares_.empty())
      break;
    spares_.erase(oldest());  // a reader held it too long: let it go
  }
}

}  // namespace callq
