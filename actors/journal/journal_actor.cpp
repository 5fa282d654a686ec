#include "actors/journal/journal_actor.hpp"

#include <sys/statvfs.h>

#include <chrono>

#include <rocksdb/perf_level.h>

#include "actors/log.hpp"
#include "actors/messages.hpp"

namespace callq {

namespace {

struct pending_append {
  journal_batch batch;
  caf::response_promise promise;
  std::chrono::steady_clock::time_point queued;
};

struct journal_state {
  std::shared_ptr<storage::event_log> log;
  std::shared_ptr<journal_stats> stats;
  std::shared_ptr<read_model> reads;
  std::shared_ptr<snapshot_writer> snapshots;
  std::shared_ptr<snapshot_stats> snapshot_figures;
  std::shared_ptr<storage_health> health;
  uint64_t snapshot_every = 0;
  uint64_t since_snapshot = 0;  ///< events written since the last snapshot was taken
  bool sync = true;
  bool wait_for_more = true;
  uint64_t last_seq = 0;  ///< of the last event written
  std::vector<pending_append> pending;
  bool flush_scheduled = false;
  size_t last_batch = 0;       ///< appends in the previous write
  static inline const char* name = "callq.journal";
};

void flush(caf::stateful_actor<journal_state>* self) {
  auto& st = self->state;
  // Group commit: while appends keep arriving and the batch is still
  // smaller than the previous one, let them join (a few mailbox trips,
  // microseconds) instead of paying a sync for a half-empty batch.
  // The wait is bounded: at most 200 us after the batch's first append.
  if (st.wait_for_more && st.pending.size() < st.last_batch && !st.pending.empty() &&
      std::chrono::steady_clock::now() - st.pending.front().queued < std::chrono::microseconds(200)) {
    self->send(self, flush_atom::value);
    return;
  }
  st.flush_scheduled = false;
  st.last_batch = st.pending.size();
  if (st.pending.empty())
    return;
  auto batch = std::move(st.pending);
  st.pending.clear();
  std::vector<events::event> all;
  std::vector<storage::idempotency_entry> idem;
  for (auto& p : batch) {
    for (auto& e : p.batch.events)
      all.push_back(std::move(e));
    for (auto& i : p.batch.idempotency)
      idem.push_back(std::move(i));
  }
  auto t0 = std::chrono::steady_clock::now();
  uint64_t first = st.last_seq + 1;
  if (st.health && !st.health->writable()) {
    // A failed append made some actor's state run ahead of the log; until
    // the runtime has rebuilt it, nothing is written and no barrier passes.
    for (auto& p : batch)
      p.promise.deliver(caf::make_error(caf::sec::runtime_error,
                                        "the event log is not writable: " + st.health->reason()));
    return;
  }
  if ((!all.empty() || !idem.empty()) && st.health) {
    // Stop short of a full disk: RocksDB cannot resume in-process from a
    // failed WAL write, but state rebuilt from a healthy log can.
    // (A log not on a local disk, PostgreSQL, has no such floor here.)
    struct statvfs fs {};
    std::string dir = st.log->local_dir();
    if (!dir.empty() && statvfs(dir.c_str(), &fs) == 0) {
      auto free = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
      if (free < st.health->floor_bytes()) {
        std::string why = "no space: " + std::to_string(free >> 20) + " MiB free, the log keeps " +
                          std::to_string(st.health->floor_bytes() >> 20) + " MiB free";
        log_line(log_level::error, why + "; refusing writes until there is room");
        st.health->failed(why);
        for (auto& p : batch)
          p.promise.deliver(caf::make_error(caf::sec::runtime_error, why));
        return;
      }
    }
  }
  if (!all.empty() || !idem.empty()) {  // barriers alone write nothing
    auto result = st.log->append(all, idem, st.sync, &first);
    if (!result) {
      log_line(log_level::error, "event log append failed: " + result.message() +
                                "; refusing writes until it can be written again");
      if (st.health)
        st.health->failed(result.message());
      for (auto& p : batch)
        p.promise.deliver(caf::make_error(caf::sec::runtime_error, result.to_string()));
      return;
    }
    st.stats->syncs += 1;
  }
  auto t1 = std::chrono::steady_clock::now();
  st.stats->events += all.size();
  st.stats->sync_us_total +=
      std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count();
  if (!all.empty()) {
    st.last_seq = first + all.size() - 1;
    if (st.reads)  // durable now: visible to readers before anyone hears of it
      st.reads->apply(first, all);
    st.since_snapshot += all.size();
    if (st.reads && st.snapshots && st.snapshot_every > 0 &&
        st.since_snapshot >= st.snapshot_every) {
      // The journal's only pause for a snapshot: copying the state.
      auto c0 = std::chrono::steady_clock::now();
      auto img = st.reads->read([](const world& w) { return w.image(); });
      if (st.snapshot_figures)
        st.snapshot_figures->last_copy_us = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - c0)
                .count());
      if (st.snapshots->submit(std::move(img), all.back().ts_ms))
        st.since_snapshot = 0;
    }
  }
  uint64_t seq = first - 1;
  for (auto& p : batch) {
    seq += p.batch.events.size();
    auto us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t1 - p.queued).count());
    size_t b = 0;
    while (b < 8 && us > journal_stats::bucket_us[b])
      ++b;
    st.stats->latency_buckets[b] += 1;
    st.stats->latency_us_total += us;
    st.stats->appends += 1;
    p.promise.deliver(seq);
  }
}

caf::behavior journal(caf::stateful_actor<journal_state>* self,
                      std::shared_ptr<storage::event_log> log,
                      std::shared_ptr<journal_stats> stats, journal_options opts) {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);  // this thread does every write
  self->state.last_seq = log->last_seq();
  self->state.log = std::move(log);
  self->state.stats = std::move(stats);
  self->state.reads = std::move(opts.reads);
  self->state.sync = opts.sync;
  self->state.wait_for_more = opts.wait_for_more;
  self->state.snapshots = std::move(opts.snapshots);
  self->state.snapshot_figures = std::move(opts.snapshot_figures);
  self->state.snapshot_every = opts.snapshot_every_events;
  self->state.health = std::move(opts.health);
  return {
      [=](append_atom, journal_batch& b) {
        auto rp = self->make_response_promise();
        self->state.pending.push_back({std::move(b), rp, std::chrono::steady_clock::now()});
        if (!self->state.flush_scheduled) {
          // Everything already in the mailbox is taken before this flush
          // runs, and everything arriving during its sync goes into the next.
          self->state.flush_scheduled = true;
          self->send(self, flush_atom::value);
        }
        return rp;
      },
      [=](flush_atom) { flush(self); },
      [=](expire_atom, int64_t now_ms) {
        uint64_t removed = 0;
        if (auto st = self->state.log->expire_idempotency(now_ms, &removed); !st)
          log_line(log_level::warn, "idempotency expiry failed: " + st.message());
      },
  };
}

}  // namespace

caf::actor spawn_journal(caf::actor_system& sys, std::shared_ptr<storage::event_log> log,
                         std::shared_ptr<journal_stats> stats, journal_options opts) {
  if (!opts.detached)
    return sys.spawn(journal, std::move(log), std::move(stats), std::move(opts));
  return sys.spawn<caf::detached>(journal, std::move(log), std::move(stats), std::move(opts));
}

}  // namespace callq
