// The FEATURE_* flags as shares of traffic (README, "Feature flags by
// share of traffic"): each flag is on, off, or on for a share of calls,
// decided per call from a hash of the caller's number, so a caller takes
// the same path every time. A call's flags are recorded in its first
// event (`call.arrived` `flags`) and its decisions run under them. Pure.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "actors/policy.hpp"
#include "events/flag_set.hpp"

namespace callq {

using events::feature_names;

/// Each flag's number in events::feature_names().
enum class feature_index : size_t {
  agent_heartbeat, device_connectivity, enhanced_discovery, enhanced_queue, queue_hold_music,
  queue_position_updates, agent_polling, multi_agent_fallback, callback_request_system
};

/// The flag `name` of `p` (nullptr for an unknown name).
bool* feature_flag(policy& p, const std::string& name);

/// 0-99: the first 8 bytes of SHA-256(`key`) as a big-endian number, mod 100.
int64_t traffic_bucket(const std::string& key);

/// Every flag for one call: 1 on, 0 off. A flag with a share (policy's
/// feature_shares) is on when the bucket of `key` (the caller's number,
/// or the CallSid when there is none) is below it; the others as `p` says.
events::flag_set flags_for_call(const policy& p, const std::string& key);

/// A call's recorded flags as one number: bit i set when
/// feature_names()[i] is on, bit 16 + i set when that flag was recorded at
/// all (names not recorded keep the server's value: a call recorded before
/// flags had shares). 0: nothing recorded. What a call's state keeps,
/// instead of the names.
int32_t flag_bits(const events::flag_set& flags);

/// `p` with the call's flags (flag_bits) applied.
policy with_call_flags(const policy& p, int32_t bits);

/// Flag `index` (into feature_names()) under `bits`, or `fallback` when the
/// call did not record it.
bool flag_on(int32_t bits, size_t index, bool fallback);
inline bool flag_on(int32_t bits, feature_index f, bool fallback) {
  return flag_on(bits, static_cast<size_t>(f), fallback);
}

/// The path a call took, for `--split features`: "all on", or "off: " and
/// the flags that were off; "unrecorded" for a call without flags.
std::string feature_path(const events::flag_set& flags);

}  // namespace callq
