// The journal actor owns every write to the event log. It runs on its own
// thread (it blocks on fsync) and group-commits: every append that arrives
// while a write is under way goes into the next single batch (one
// WriteBatch and sync; one transaction). A log that takes several batches
// at once (event_log::max_in_flight(): PostgreSQL's pipeline) gets the
// next batch before the journal waits for the previous one, so the store
// works on one while the journal answers the other.
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/journal/journal_options.hpp"
#include "storage/event_log.hpp"

namespace callq {

/// Spawns the journal. It answers `(append_atom, journal_batch) -> uint64_t`
/// with the sequence number of the batch's last event (of the log's last
/// event, for a batch with no events), only after the batch is durable and
/// applied to the read model. Appends are answered in the order they
/// arrived, so an empty batch is a barrier for everything sent before it.
/// A write failure answers with an error; the log stays consistent.
/// `(expire_atom, now_ms)` deletes the idempotency entries expired at
/// `now_ms` (the journal is the one writer).
caf::actor spawn_journal(caf::actor_system& sys, std::shared_ptr<storage::event_log> log,
                         std::shared_ptr<journal_stats> stats, journal_options opts = {});

}  // namespace callq
