#include "actors/feature_flags.hpp"

#include <algorithm>
#include <iterator>

#include "events/sha256.hpp"

namespace callq {

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names = {
      "FEATURE_AGENT_HEARTBEAT",        "FEATURE_DEVICE_CONNECTIVITY", "FEATURE_ENHANCED_DISCOVERY",
      "FEATURE_ENHANCED_QUEUE",         "FEATURE_QUEUE_HOLD_MUSIC",    "FEATURE_QUEUE_POSITION_UPDATES",
      "FEATURE_AGENT_POLLING",          "FEATURE_MULTI_AGENT_FALLBACK", "FEATURE_CALLBACK_REQUEST_SYSTEM"};
  return names;
}

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

/// Indices into feature_names() in the names' sorted order (a map's):
/// the flags are built and read in one ordered pass, without a look-up
/// per name.
const std::vector<size_t>& sorted_features() {
  static const std::vector<size_t> order = [] {
    const auto& names = feature_names();
    std::vector<size_t> o(names.size());
    for (size_t i = 0; i < o.size(); ++i)
      o[i] = i;
    std::sort(o.begin(), o.end(), [&](size_t a, size_t b) { return names[a] < names[b]; });
    return o;
  }();
  return order;
}

}  // namespace

bool* feature_flag(policy& p, const std::string& name) {
  const auto& names = feature_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name)
      return &(p.*flag_members[i]);
  return nullptr;
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

std::map<std::string, int64_t> flags_for_call(const policy& p, const std::string& key) {
  std::map<std::string, int64_t> out;
  int64_t bucket = -1;
  const auto& names = feature_names();
  for (size_t i : sorted_features()) {
    const std::string& name = names[i];
    int64_t on = p.*flag_members[i] ? 1 : 0;
    if (!p.feature_shares.empty())
      if (auto share = p.feature_shares.find(name); share != p.feature_shares.end()) {
        if (bucket < 0)
          bucket = traffic_bucket(key);
        on = bucket < share->second ? 1 : 0;
      }
    out.emplace_hint(out.end(), name, on);  // in order: no search
  }
  return out;
}

int32_t flag_bits(const std::map<std::string, int64_t>& flags) {
  // The names by length: a recorded name is compared whole only with
  // the names as long as it (each has its own length today).
  static const std::vector<std::vector<size_t>> by_length = [] {
    const auto& names = feature_names();
    std::vector<std::vector<size_t>> t;
    for (size_t i = 0; i < names.size(); ++i) {
      if (t.size() <= names[i].size())
        t.resize(names[i].size() + 1);
      t[names[i].size()].push_back(i);
    }
    return t;
  }();
  const auto& names = feature_names();
  int32_t bits = 0;
  for (auto& [name, on] : flags) {
    if (name.size() >= by_length.size())
      continue;  // a name this build does not know
    for (size_t i : by_length[name.size()])
      if (name == names[i])
        bits |= (1 << (16 + i)) | (on != 0 ? 1 << i : 0);
  }
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

std::string feature_path(const std::map<std::string, int64_t>& flags) {
  if (flags.empty())
    return "unrecorded";
  std::string off;
  for (auto& [name, on] : flags)
    if (on == 0)
      off += (off.empty() ? "" : ", ") + name;
  return off.empty() ? "all on" : "off: " + off;
}

}  // namespace callq
