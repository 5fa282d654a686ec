// Snapshots: the whole live state at one sequence number, so that start-up
// and `callq replay --until` replay only the events after it.
//
// Byte layout (the value stored under the snapshot's sequence number in the
// log's "snapshots" column family):
//
//   "callq-snapshot\n" | u32 format | u64 seq | i64 ts_ms (of event seq)
//   | 32B chain value of event seq | 64 hex SHA-256 of the payload | payload
//
// The payload (format 5) is a CBOR document (nlohmann/json) of the caller
// directory, the counters, the queues and the world digest
// (actors/world/world.hpp) the state had when it was taken, then every
// live call and agent with its stream version, each its own CBOR
// document:
//
//   u64 length | that document | u32 calls | (u32 length | call's CBOR)*
//   | u32 agents | (u32 length | agent's CBOR)*
//
// so that the entities decode straight from the bytes, side by side
// (formats 3 and 4 held them inside the one document, which the CBOR
// reader copies a byte at a time). Decoding checks the
// format, the payload digest, and that the decoded state has the recorded
// world digest; any failure is an error naming what is wrong, never a
// crash (the decoder is fuzzed).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "events/event.hpp"
#include "events/status.hpp"
#include "actors/world/world.hpp"
#include "storage/event_log.hpp"

namespace callq {

/// The format this build writes and the newest it reads. Format 6 frames
/// each call and agent as its own CBOR document after the rest, an array
/// of its fields' values in a fixed, append-only order (snapshot.cpp);
/// formats 5 (the same framing, each an object naming its fields), 4
/// (those objects as byte strings inside the one document) and 3 (one
/// document, each entity an object in it) are still read.
constexpr uint32_t snapshot_format = 6;
/// The oldest format this build reads (older ones: the log is replayed).
constexpr uint32_t oldest_snapshot_format = 3;

/// What a snapshot says about itself.
struct snapshot_info {
  uint64_t seq = 0;              ///< the last event it covers
  int64_t ts_ms = 0;             ///< that event's time
  events::chain_value chain{};   ///< that event's chain value
  std::string world_digest;      ///< world::digest() of the state
};

/// A call's flags in a snapshot's JSON: a number (call_flags::bits). A
/// snapshot written before holds the names and 1/0 (call.arrived's map):
/// from_json reads those through flag_bits() too.
void to_json(nlohmann::json& j, const call_flags& f);
void from_json(const nlohmann::json& j, call_flags& f);

/// A call in a snapshot's JSON: one flat object of its durable fields,
/// those of its call_routing beside the others (volatile ones left out).
/// from_json leaves the routing part absent when none of it is set.
void to_json(nlohmann::json& j, const call_state& c);
void from_json(const nlohmann::json& j, call_state& c);

/// Encodes `img` (taken of a world whose digest is `world_digest`) as a
/// snapshot covering event `img.last_seq`, of time `ts_ms` and chain `chain`.
std::string encode_snapshot(const world_image& img, const std::string& world_digest,
                            int64_t ts_ms, const events::chain_value& chain);

/// Decodes a snapshot into a world applying `rules`. Errors: corruption
/// (bad bytes, digest mismatch) or not_supported (a newer format).
status decode_snapshot(std::string_view bytes, const policy& rules, world* out,
                       snapshot_info* info);

/// Takes a snapshot of `w` (whose last event has time `ts_ms`) and stores
/// it in `log`, which prunes older ones and records the chain head.
status write_snapshot(storage::event_log& log, const world& w, int64_t ts_ms);

/// What load_newest_snapshot() did.
struct snapshot_load {
  bool loaded = false;
  snapshot_info info;
  std::vector<std::string> skipped;  ///< one warning per snapshot skipped, naming it
};

/// Loads the newest snapshot of `log` that decodes, belongs to this log
/// (its chain value equals the log's at its sequence number) and covers no
/// event after `max_seq` or later than `max_ms` (0: no limit). Leaves
/// `*out` untouched when none does; an error only when the log cannot be
/// read.
status load_newest_snapshot(const storage::event_log& log, const policy& rules,
                            uint64_t max_seq, int64_t max_ms, world* out,
                            snapshot_load* report);

}  // namespace callq
