#include "actors/feature_flags.hpp"

#include "events/sha256.hpp"

namespace callq {

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names = {
      "FEATURE_AGENT_HEARTBEAT",        "FEATURE_DEVICE_CONNECTIVITY", "FEATURE_ENHANCED_DISCOVERY",
      "FEATURE_ENHANCED_QUEUE",         "FEATURE_QUEUE_HOLD_MUSIC",    "FEATURE_QUEUE_POSITION_UPDATES",
      "FEATURE_AGENT_POLLING",          "FEATURE_MULTI_AGENT_FALLBACK", "FEATURE_CALLBACK_REQUEST_SYSTEM"};
  return names;
}

bool* feature_flag(policy& p, const std::string& name) {
  if (name == "FEATURE_AGENT_HEARTBEAT") return &p.feature_agent_heartbeat;
  if (name == "FEATURE_DEVICE_CONNECTIVITY") return &p.feature_device_connectivity;
  if (name == "FEATURE_ENHANCED_DISCOVERY") return &p.feature_enhanced_discovery;
  if (name == "FEATURE_ENHANCED_QUEUE") return &p.feature_enhanced_queue;
  if (name == "FEATURE_QUEUE_HOLD_MUSIC") return &p.feature_queue_hold_music;
  if (name == "FEATURE_QUEUE_POSITION_UPDATES") return &p.feature_queue_position_updates;
  if (name == "FEATURE_AGENT_POLLING") return &p.feature_agent_polling;
  if (name == "FEATURE_MULTI_AGENT_FALLBACK") return &p.feature_multi_agent_fallback;
  if (name == "FEATURE_CALLBACK_REQUEST_SYSTEM") return &p.feature_callback_request_system;
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
  policy copy = p;
  int64_t bucket = -1;
  for (auto& name : feature_names()) {
    auto share = p.feature_shares.find(name);
    if (share == p.feature_shares.end()) {
      out[name] = *feature_flag(copy, name) ? 1 : 0;
      continue;
    }
    if (bucket < 0)
      bucket = traffic_bucket(key);
    out[name] = bucket < share->second ? 1 : 0;
  }
  return out;
}

policy with_call_flags(const policy& p, const std::map<std::string, int64_t>& flags) {
  policy out = p;
  for (auto& [name, on] : flags)
    if (bool* f = feature_flag(out, name))
      *f = on != 0;
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
