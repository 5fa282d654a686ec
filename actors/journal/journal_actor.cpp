#include "actors/journal/journal_actor.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <unordered_map>

#include <rocksdb/perf_level.h>

#include "actors/log.hpp"
#include "actors/messages.hpp"

namespace callq {

namespace {

/// A snapshot costs time in proportion to the live state (copy, digest,
/// encode), so one is taken only after at least this many events per live
/// call and agent: with 100,000 calls waiting, every 400,000 events rather
/// than every CALLQ_SNAPSHOT_EVERY_EVENTS. The work per event stays bounded
/// (a quarter of an entity's encoding) and so does the replay at a restart
/// (a few events per live entity).
constexpr uint64_t snapshot_entities_factor = 4;

struct pending_append {
  journal_batch batch;
  caf::response_promise promise;
  std::chrono::steady_clock::time_point queued;
};

/// A batch on its way to the log: answered, in order, once durable.
struct in_flight_write {
  std::vector<pending_append> batch;
  std::vector<events::event> all;  ///< applied to the read model once durable
  uint64_t first = 0;              ///< the sequence number of all[0]
  bool submitted = false;          ///< false: barriers only, nothing to write
  std::chrono::steady_clock::time_point t0;
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
  uint64_t sent_seq = 0;  ///< of the last event submitted (written or in flight)
  std::vector<pending_append> pending;
  std::deque<in_flight_write> in_flight;  ///< oldest first
  size_t submitted = 0;                   ///< entries of in_flight written to the log
  bool flush_scheduled = false;
  size_t last_batch = 0;       ///< appends in the previous write
  static inline const char* name = "callq.journal";
};

/// A finished call's stream gets nothing more from its writer once this
/// batch of it is durable: the log need not keep its version cached (an
/// append after all, a late duplicate's, looks it up again).
void forget_finished_stream(journal_state& st, const journal_batch& b) {
  if (b.call_after && is_finished(b.call_after->phase) && !b.expect.empty())
    st.log->forget_version(b.expect.front().stream, b.call_after->version);
}

/// Fails every append of `batch` with `why`.
void refuse(std::vector<pending_append>& batch, const std::string& why) {
  for (auto& p : batch)
    p.promise.deliver(caf::make_error(caf::sec::runtime_error, why));
}

/// After the log refused `w` as a conflict (a stream in the store was not
/// at the version its writer expected, found only there): the log wrote
/// nothing of it or of the writes submitted after it, and now knows the
/// versions of their streams. Their appends go back, in order, ahead of
/// those pending, to be checked again (refuse_conflicts() refuses the
/// wrong ones) and submitted by the next flush.
void retry_after_conflict(caf::stateful_actor<journal_state>* self, in_flight_write w) {
  auto& st = self->state;
  std::vector<pending_append> again = std::move(w.batch);
  while (!st.in_flight.empty()) {
    in_flight_write later = std::move(st.in_flight.front());
    st.in_flight.pop_front();
    if (later.submitted) {
      --st.submitted;
      (void)st.log->complete_append();  // failed with the first: nothing written
    }
    for (auto& p : later.batch)
      again.push_back(std::move(p));
  }
  for (auto& p : st.pending)
    again.push_back(std::move(p));
  st.pending = std::move(again);
  st.sent_seq = st.last_seq;
  st.stats->conflict_retries += 1;
  if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

/// Waits for the oldest write in flight, then makes it visible and
/// answers its appends.
void complete_oldest(caf::stateful_actor<journal_state>* self) {
  auto& st = self->state;
  in_flight_write w = std::move(st.in_flight.front());
  st.in_flight.pop_front();
  if (w.submitted) {
    --st.submitted;
    if (auto result = st.log->complete_append(); result.is_conflict()) {
      retry_after_conflict(self, std::move(w));
      return;
    } else if (!result) {
      log_line(log_level::error, "event log append failed: " + result.message() +
                                "; refusing writes until it can be written again");
      if (st.health)
        st.health->failed(result.message());
      refuse(w.batch, result.to_string());
      st.sent_seq = st.last_seq;  // the writes behind it fail too
      return;
    }
    st.stats->syncs += 1;
  } else if (st.health && !st.health->writable()) {  // behind a write that failed
    refuse(w.batch, "the event log is not writable: " + st.health->reason());
    return;
  }
  auto t1 = std::chrono::steady_clock::now();
  st.stats->events += w.all.size();
  if (w.submitted) {
    auto us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(t1 - w.t0).count());
    st.stats->sync_us_total += us;
    st.stats->sync_buckets[journal_stats::bucket_of(us)] += 1;
  }
  for (auto& p : w.batch)
    forget_finished_stream(st, p.batch);
  if (!w.all.empty()) {
    size_t count = w.all.size();
    int64_t last_ts = w.all.back().ts_ms;
    st.last_seq = w.first + count - 1;
    if (st.reads) {  // durable now: visible to readers before anyone hears of it
      std::vector<shared_call_state> states;
      for (auto& p : w.batch)
        if (p.batch.call_after)
          states.push_back(std::move(p.batch.call_after));
      st.reads->apply(w.first, std::move(w.all), std::move(states));
    }
    st.since_snapshot += count;
    if (st.reads && st.snapshots && st.snapshot_every > 0 &&
        st.since_snapshot >= st.snapshot_every && st.snapshots->idle() &&
        st.since_snapshot >= snapshot_entities_factor * st.reads->read([](const world& w) {
          return static_cast<uint64_t>(w.calls().size() + w.agents().size());
        })) {
      // The journal's only pause for a snapshot: taking the read model's
      // newest version (immutable: nothing is copied). While the writer is
      // still busy with the previous one, nothing is taken (the next batch
      // asks again).
      auto c0 = std::chrono::steady_clock::now();
      std::shared_ptr<const world> state = st.reads->version();
      if (st.snapshot_figures) {
        st.snapshot_figures->last_copy_us = static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - c0)
                .count());
        st.snapshot_figures->copies += 1;
      }
      if (st.snapshots->submit(std::move(state), last_ts))
        st.since_snapshot = 0;
    }
  }
  uint64_t seq = w.first - 1;
  for (auto& p : w.batch) {
    seq += p.batch.events.size();
    auto us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t1 - p.queued).count());
    st.stats->latency_buckets[journal_stats::bucket_of(us)] += 1;
    st.stats->latency_us_total += us;
    st.stats->appends += 1;
    p.promise.deliver(seq);
  }
}

/// Optimistic concurrency: refuses, each alone, the pending appends whose
/// expected stream versions are wrong, counting the appends taken before
/// them in this batch; the others go on. A version the log does not know
/// without a round trip (PostgreSQL, a stream it has not cached) is taken
/// to be what its first append here expects, and the log is told so
/// (expect_version()): the store checks that one, and a wrong one comes
/// back as a conflict (retry_after_conflict()). Later appends in the same
/// batch are still checked against it here.
void refuse_conflicts(journal_state& st) {
  std::unordered_map<std::string, uint64_t> now;  // expected streams' versions as the batch grows
  bool any = false;
  for (auto& p : st.pending)
    for (auto& x : p.batch.expect) {
      any = true;
      uint64_t v = 0;
      if (now.count(x.stream))
        continue;
      if (!st.log->known_version(x.stream, &v)) {
        v = x.version;
        st.log->expect_version(x.stream, v);
      }
      now.emplace(x.stream, v);
    }
  if (!any)
    return;
  std::vector<pending_append> kept;
  kept.reserve(st.pending.size());
  for (auto& p : st.pending) {
    std::string why;
    for (auto& x : p.batch.expect)
      if (auto i = now.find(x.stream); i != now.end() && i->second != x.version) {
        why = "conflict: stream " + x.stream + " is at version " + std::to_string(i->second) +
              ", its writer expected " + std::to_string(x.version);
        break;
      }
    if (!why.empty()) {
      st.stats->conflicts += 1;
      p.promise.deliver(caf::make_error(caf::sec::runtime_error, why));
      continue;
    }
    for (auto& e : p.batch.events)
      if (auto i = now.find(events::stream_of(e.body)); i != now.end())
        ++i->second;
    kept.push_back(std::move(p));
  }
  st.pending = std::move(kept);
}

/// Sends the pending appends to the log as one batch (one atomic write),
/// behind the writes already in flight. False when it was refused (its
/// appends are answered with the reason).
bool submit_pending(caf::stateful_actor<journal_state>* self) {
  auto& st = self->state;
  // Room in the pipeline first: completing a write may send its appends
  // back ahead of these (retry_after_conflict()).
  bool writes = std::any_of(st.pending.begin(), st.pending.end(), [](const pending_append& p) {
    return !p.batch.events.empty() || !p.batch.idempotency.empty();
  });
  while (writes && st.submitted >= st.log->max_in_flight())
    complete_oldest(self);
  refuse_conflicts(st);
  in_flight_write w;
  w.batch = std::move(st.pending);
  st.pending.clear();
  std::vector<storage::idempotency_entry> idem;
  for (auto& p : w.batch) {
    for (auto& e : p.batch.events)
      w.all.push_back(std::move(e));
    for (auto& i : p.batch.idempotency)
      idem.push_back(std::move(i));
  }
  w.t0 = std::chrono::steady_clock::now();
  w.first = st.sent_seq + 1;
  if (st.health && !st.health->writable()) {
    // A failed append made some actor's state run ahead of the log; until
    // the runtime has rebuilt it, nothing is written and no barrier passes.
    refuse(w.batch, "the event log is not writable: " + st.health->reason());
    return false;
  }
  if ((!w.all.empty() || !idem.empty()) && st.health) {
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
        refuse(w.batch, why);
        return false;
      }
    }
  }
  if (!w.all.empty() || !idem.empty()) {  // barriers alone write nothing
    if (auto result = st.log->submit_append(w.all, idem, st.sync, &w.first); !result) {
      log_line(log_level::error, "event log append failed: " + result.message() +
                                "; refusing writes until it can be written again");
      if (st.health)
        st.health->failed(result.message());
      refuse(w.batch, result.to_string());
      return false;
    }
    w.submitted = true;
    ++st.submitted;
    st.sent_seq = w.first + w.all.size() - 1;
  }
  st.in_flight.push_back(std::move(w));
  return true;
}

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
  bool sent = !st.pending.empty() && submit_pending(self);
  // Pipelining: the oldest write is waited for once the next one is on
  // its way (so the log works on it while this one's appends are
  // answered), or when nothing else is waiting. A log that takes one
  // write at a time has finished it already.
  if (st.in_flight.size() > 1 || (!st.in_flight.empty() && !sent) ||
      st.submitted >= st.log->max_in_flight())
    complete_oldest(self);
  while (!st.in_flight.empty() && !st.in_flight.front().submitted)
    complete_oldest(self);  // barriers behind nothing unwritten
  // The answers are out and the next write is on its way: bring a spare
  // world up to date now, so the next batch is applied once before its
  // answers.
  if (st.reads)
    st.reads->prepare();
  if (!st.in_flight.empty() && !st.flush_scheduled) {
    // Back after the appends that arrived meanwhile: they go out next.
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

caf::behavior journal(caf::stateful_actor<journal_state>* self,
                      std::shared_ptr<storage::event_log> log,
                      std::shared_ptr<journal_stats> stats, journal_options opts) {
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);  // this thread does every write
  self->state.last_seq = self->state.sent_seq = log->last_seq();
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
        while (!self->state.in_flight.empty())  // no other write beside pipelined ones
          complete_oldest(self);
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
