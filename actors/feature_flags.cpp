#include "actors/feature_flags.hpp"

#include <algorithm>
#include <iterator>

#include "events/sha256.hpp"

namespace callq {

namespace {

/// The policy's flag members, in feature_names()'s order.
constexpr bool policy::*flag_members[] = {
    &policy::feature_agent_heartbeat,        &policy::feature_device_connectivity,
    &policy::feature_enhanced_discovery,     &policy::feature_enhanced_queue,
    &policy::feature_queue_hold_music,       &policy::feature_queue_position_updates,
    &policy::feature_agent_polling,          &policy::feature_multi_agent_fallback,
    &policy::feature_callback_request_system};
static_assert(std::size(flag_members) == static_cast<size_t>(feature_index::callback_request_system) + 1,
              "one member per feature_index");

}  // namespace

bool* feature_flag(policy& p, const std::string& name) {
  auto number = events::feature_number(name);
  return number ? &(p.*flag_members[*number]) : nullptr;
}

int64_t traffic_bucket(const std::string& key) {
  std::string hex = events::sha256_hex(key);
  uint64_t v = 0;
  for (int i = 0; i < 16; ++i) {
    char c = hex[static_cast<size_t>(i)];
    v = (v << 4) | static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return static_cast<int64_t>(v % 100);
}

events::flag_set flags_for_call(const policy& p, const std::string& key) {
  events::flag_set out;
  int64_t bucket = -1;
  const auto& names = feature_names();
  for (size_t i = 0; i < names.size(); ++i) {
    bool on = p.*flag_members[i];
    if (!p.feature_shares.empty())
      if (auto share = p.feature_shares.find(names[i]); share != p.feature_shares.end()) {
        if (bucket < 0)
          bucket = traffic_bucket(key);
        on = bucket < share->second;
      }
    out.set(i, on);
  }
  return out;
}

int32_t flag_bits(const events::flag_set& flags) {
  auto bits = static_cast<int32_t>((flags.recorded() << 16) | flags.on());
  // A known name recorded with another value than 0 or 1: on unless 0.
  for (auto& [name, on] : flags.other())
    if (auto i = events::feature_number(name))
      bits |= (1 << (16 + *i)) | (on != 0 ? 1 << *i : 0);
  return bits;
}

bool flag_on(int32_t bits, size_t index, bool fallback) {
  if ((bits & (1 << (16 + index))) == 0)
    return fallback;
  return (bits & (1 << index)) != 0;
}

policy with_call_flags(const policy& p, int32_t bits) {
  policy out = p;
  if (bits == 0)
    return out;
  for (size_t i = 0; i < std::size(flag_members); ++i)
    out.*flag_members[i] = flag_on(bits, i, p.*flag_members[i]);
  return out;
}

std::string feature_path(const events::flag_set& flags) {
  if (flags.empty())
    return "unrecorded";
  std::string off;
  flags.for_each([&](std::string_view name, int64_t on) {
    if (on == 0)
      off.append(off.empty() ? "" : ", ").append(name);
  });
  return off.empty() ? "all on" : "off: " + off;
}

}  // namespace callq
