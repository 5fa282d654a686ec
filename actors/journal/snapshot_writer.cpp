#include "actors/journal/snapshot_writer.hpp"

#include <chrono>

#include "actors/log.hpp"
#include "actors/world/snapshot.hpp"

namespace callq {

snapshot_writer::snapshot_writer(std::shared_ptr<storage::event_log> log,
                                 std::shared_ptr<snapshot_stats> stats)
    : log_(std::move(log)), stats_(std::move(stats)) {
  thread_ = std::thread([this] { run(); });
}

snapshot_writer::~snapshot_writer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool snapshot_writer::submit(std::shared_ptr<const world> state, int64_t ts_ms) {
  {
    std::lock_guard lock(mu_);
    if (busy_ || pending_ || stop_)
      return false;
    pending_.emplace(std::move(state), ts_ms);
  }
  cv_.notify_all();
  return true;
}

bool snapshot_writer::idle() {
  std::lock_guard lock(mu_);
  return !busy_ && !pending_ && !stop_;
}

status snapshot_writer::write_now(const world& state, int64_t ts_ms) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !busy_ && !pending_; });
  busy_ = true;
  lock.unlock();
  auto st = write(state, ts_ms);
  lock.lock();
  busy_ = false;
  cv_.notify_all();
  return st;
}

status snapshot_writer::write(const world& w, int64_t ts_ms) {
  auto t0 = std::chrono::steady_clock::now();
  auto st = write_snapshot(*log_, w, ts_ms);
  stats_->last_write_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  if (st) {
    stats_->written += 1;
    stats_->last_seq = w.last_seq();
  } else {
    stats_->failed += 1;
    log_line(log_level::warn,
        "snapshot at event " + std::to_string(w.last_seq()) + " not written: " + st.message());
  }
  return st;
}

void snapshot_writer::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || pending_; });
    if (!pending_)
      return;  // stopping, nothing left
    auto job = std::move(*pending_);
    pending_.reset();
    busy_ = true;
    lock.unlock();
    write(*job.first, job.second);
    job.first.reset();  // let the version go before waiting again
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace callq
