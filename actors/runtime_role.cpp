#include "actors/runtime.hpp"

#include <caf/all.hpp>

#include "actors/log.hpp"

#include "actors/runtime_internal.hpp"

namespace callq {

using namespace runtime_detail;

void runtime::lead(int64_t epoch) {
  {
    std::lock_guard lock(role_mu_);
    want_epoch_ = epoch;
  }
  role_cv_.notify_all();
}

void runtime::step_down(const std::string& why) {
  {
    std::lock_guard lock(role_mu_);
    want_down_ = true;
    want_epoch_ = 0;  // a lost leadership cancels a promotion not yet done
    down_why_ = why;
  }
  role_cv_.notify_all();
}

status runtime::follow() {
  uint64_t from = reads_->read([](const world& w) { return w.last_seq(); }) + 1;
  std::vector<events::event> batch;
  uint64_t first = from;
  auto flush = [&] {
    if (!batch.empty())
      reads_->apply(first, std::move(batch));
    batch.clear();
  };
  auto st = log_->scan(from, [&](const events::envelope& e) {
    if (batch.empty())
      first = e.seq;
    batch.push_back(e.ev);
    if (batch.size() >= 1000)
      flush();
    return true;
  });
  flush();
  return st;
}

void runtime::run_role() {
  std::string last_problem;
  for (;;) {
    int64_t epoch = 0;
    bool down = false;
    std::string why;
    {
      std::lock_guard lock(role_mu_);
      if (role_stop_)
        return;
      epoch = std::exchange(want_epoch_, 0);
      down = std::exchange(want_down_, false);
      why = down_why_;
    }
    if (down && leading_) {
      std::unique_lock life(life_mu_);
      if (!stopped_)
        demote_locked(why);
    }
    if (epoch != 0 && !leading_) {
      std::unique_lock life(life_mu_);
      if (!stopped_)
        promote_locked(epoch);
      if (!leading_) {  // failed: try again in a second, while still elected
        std::unique_lock lock(role_mu_);
        if (role_cv_.wait_for(lock, std::chrono::seconds(1), [&] { return role_stop_ || want_down_; }))
          continue;
        if (want_epoch_ == 0)
          want_epoch_ = epoch;
      }
      continue;
    }
    if (!leading_) {
      // Following: woken by the leader's NOTIFY, or every 250 ms anyway.
      log_->wait_for_appends(250);
      std::shared_lock life(life_mu_);
      if (leading_ || stopped_)
        continue;
      if (auto st = follow(); !st && st.message() != last_problem) {
        log_line(log_level::warn, "following the log: " + st.message());
        last_problem = st.message();
      } else if (st) {
        last_problem.clear();
      }
      continue;
    }
    std::unique_lock lock(role_mu_);
    role_cv_.wait_for(lock, std::chrono::milliseconds(250),
                      [&] { return role_stop_ || want_epoch_ != 0 || want_down_; });
  }
}

void runtime::promote_locked(int64_t epoch) {
  auto t0 = std::chrono::steady_clock::now();
  log_->fence_with(epoch);
  status st = log_->resume();  // the log's end as it is now, others' appends included
  if (st)
    st = follow();  // the warm state catches up to the last durable event
  if (!st) {
    log_line(log_level::error, "cannot take the lead (epoch " + std::to_string(epoch) + "): " +
                                   st.message());
    return;
  }
  world w = reads_->read([](const world& x) { return x; });
  uint64_t at = w.last_seq();
  if (!health_->writable())
    health_->recovered();
  startup_report rep;
  if (st = spawn(std::move(w), rep, &rep); !st) {
    log_line(log_level::error, "cannot take the lead (epoch " + std::to_string(epoch) + "): " +
                                   st.message());
    if (impl_)
      teardown();
    return;
  }
  leading_ = true;
  if (opts_.on_role)
    opts_.on_role(true);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  log_line(log_level::info, "leading the shared event log (epoch " + std::to_string(epoch) +
                                "): took over at event " + std::to_string(at) + " with " +
                                std::to_string(rep.calls) + " calls and " + std::to_string(rep.agents) +
                                " agents in " + std::to_string(secs) + " s");
}

void runtime::demote_locked(const std::string& why) {
  if (impl_)
    teardown();
  leading_ = false;
  if (!health_->writable())
    health_->recovered();  // a follower writes nothing; leading again starts afresh
  log_line(log_level::warn, "no longer leading: " + why + "; following the log");
  if (opts_.on_role)
    opts_.on_role(false);
}


}  // namespace callq
