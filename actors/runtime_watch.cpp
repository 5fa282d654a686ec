#include "actors/runtime.hpp"

#include <sys/statvfs.h>

#include <caf/all.hpp>

#include "actors/log.hpp"

#include "actors/runtime_internal.hpp"

namespace callq {

using namespace runtime_detail;

void runtime::measure_disk() {
  // The file system of the log; none to watch for a PostgreSQL log (its
  // server watches its own disk).
  std::string dir = log_ ? log_->local_dir() : opts_.data_dir;
  struct statvfs fs {};
  if (dir.empty() || statvfs(dir.c_str(), &fs) != 0)
    return;
  int64_t free = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
  bool was_low = health_->disk_low(), was_reserve = health_->reserve_reached();
  health_->measured(free, opts_.disk.low_bytes, opts_.disk.reserve_bytes);
  auto mib = [](int64_t b) { return std::to_string(b >> 20) + " MiB"; };
  if (health_->disk_low() && !was_low)
    log_line(log_level::warn, mib(free) + " free on the data directory's file system, under CALLQ_DISK_LOW (" +
                             mib(opts_.disk.low_bytes) + ")");
  if (health_->reserve_reached() && !was_reserve)
    log_line(log_level::warn, mib(free) + " free, under CALLQ_DISK_RESERVE (" +
                             mib(opts_.disk.reserve_bytes) +
                             "): new incoming calls are refused; calls already waiting go on");
  if (!health_->reserve_reached() && was_reserve)
    log_line(log_level::info, mib(free) + " free again: new incoming calls are accepted");
}

status runtime::check_storage() {
  if (std::string why = down(); !why.empty())
    return status::io_error(why);  // only a restart mends it
  measure_disk();
  if (health_->writable() || !leading_)
    return status::ok();
  if (health_->free_bytes() >= 0 && health_->free_bytes() < health_->floor_bytes())
    return status::io_error("still no space");
  std::unique_lock lock(life_mu_);
  if (stopped_ || health_->writable())
    return status::ok();
  // The journal writes nothing while the log is not writable, so RocksDB
  // can be resumed from here (a no-op when the journal refused the append
  // before RocksDB saw it, the usual case).
  if (auto st = log_->resume(); !st) {
    if (st.is_fenced()) {  // another callq leads the shared log now
      demote_locked(st.message());
      return st;
    }
    health_->failed("the event log met a write error it cannot resume from in-process (" +
                    st.message() + "); restart callq once space is freed");
    return st;
  }
  // Some actors applied events that never became durable: rebuild every
  // actor from the durable log, as a restart would.
  if (impl_)
    teardown();
  // Writable again before the actors start: their recovery appends. No
  // request runs meanwhile (this thread holds life_mu_).
  health_->recovered();
  startup_report rep;
  status booted = status::ok();
  if (fail_next_boot_.exchange(false)) {
    booted = status::io_error("a test made this rebuild fail");
  } else {
    booted = boot(&rep);
  }
  if (!booted) {
    // Every actor is stopped and the log could not give them back: this
    // process would answer and dispatch nothing. Say so and let it be
    // restarted (a fresh start reads the log anew).
    std::string why = "rebuilding every actor from the log failed (" + booted.message() +
                      "); nothing is dispatched until callq is restarted";
    log_line(log_level::error, why);
    health_->failed(why);
    if (impl_)
      teardown();
    bool first = false;
    {
      std::lock_guard wl(watch_mu_);
      first = down_.empty();
      if (first)
        down_ = why;
    }
    if (first && opts_.on_fatal)
      opts_.on_fatal(why);
    return booted;
  }
  log_line(log_level::info,
      "the event log is writable again; state rebuilt from " +
          (rep.snapshot_seq ? "the snapshot at event " + std::to_string(rep.snapshot_seq) + " and "
                            : std::string()) +
          std::to_string(rep.events_replayed) + " events");
  return status::ok();
}

void runtime::watch_disk() {
  std::unique_lock lock(watch_mu_);
  while (!watch_stop_) {
    crashed_ = false;
    lock.unlock();
    check_storage();
    lock.lock();
    watch_cv_.wait_for(lock, std::chrono::milliseconds(opts_.disk_check_ms),
                       [&] { return watch_stop_ || crashed_; });
  }
}

void runtime::on_crash(const std::string& what, const std::string& why) {
  std::string text = "the " + what + " actor stopped unexpectedly (" + why +
                     "); writes are refused until every actor is rebuilt from the log";
  log_line(log_level::error, text);
  health_->failed(text);
  crashes_.fetch_add(1);  // requests waiting on the actors answer 503 now
  {
    std::lock_guard lock(watch_mu_);
    crashed_ = true;
  }
  watch_cv_.notify_all();
}

std::string runtime::down() const {
  std::lock_guard lock(watch_mu_);
  return down_;
}

status runtime::crash_for_test(const std::string& which, bool fail_rebuild) {
  std::shared_lock life(life_mu_);
  if (!impl_)
    return status::not_supported("no actors run");
  auto& env = *impl_->env;
  caf::actor* a = which == "journal"      ? &env.journal
                  : which == "dispatcher" ? &env.dispatcher
                  : which == "timers"     ? &env.timers
                  : which == "gateway"    ? &env.gateway
                                          : nullptr;
  if (a == nullptr)
    return status::invalid_argument("no actor called " + which);
  fail_next_boot_ = fail_rebuild;
  caf::anon_send_exit(*a, caf::exit_reason::kill);
  if (impl_->pump)
    impl_->pump();
  return status::ok();
}


}  // namespace callq
