#include "events/flag_set.hpp"

#include <algorithm>

namespace callq::events {

const std::vector<std::string>& feature_names() {
  static const std::vector<std::string> names = {
      "FEATURE_AGENT_HEARTBEAT",        "FEATURE_DEVICE_CONNECTIVITY", "FEATURE_ENHANCED_DISCOVERY",
      "FEATURE_ENHANCED_QUEUE",         "FEATURE_QUEUE_HOLD_MUSIC",    "FEATURE_QUEUE_POSITION_UPDATES",
      "FEATURE_AGENT_POLLING",          "FEATURE_MULTI_AGENT_FALLBACK", "FEATURE_CALLBACK_REQUEST_SYSTEM"};
  return names;
}

std::optional<size_t> feature_number(std::string_view name) {
  // The names by length: a name is compared whole only with the names as
  // long as it (each has its own length today).
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
  if (name.size() >= by_length.size())
    return std::nullopt;
  const auto& names = feature_names();
  for (size_t i : by_length[name.size()])
    if (name == names[i])
      return i;
  return std::nullopt;
}

const std::vector<size_t>& features_in_name_order() {
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

void flag_set::set(std::string_view name, int64_t value) {
  auto number = feature_number(name);
  if (number && (value == 0 || value == 1)) {
    if (!other_.empty())
      if (auto i = other_.find(name); i != other_.end())
        other_.erase(i);
    set(*number, value == 1);
    return;
  }
  if (number) {
    recorded_ &= ~(1u << *number);
    on_ &= ~(1u << *number);
  }
  other_.insert_or_assign(std::string(name), value);
}

void flag_set::set(size_t number, bool on) {
  recorded_ |= 1u << number;
  if (on)
    on_ |= 1u << number;
  else
    on_ &= ~(1u << number);
}

std::optional<int64_t> flag_set::get(std::string_view name) const {
  if (auto number = feature_number(name); number && (recorded_ & (1u << *number)) != 0)
    return static_cast<int64_t>((on_ >> *number) & 1u);
  if (auto i = other_.find(name); i != other_.end())
    return i->second;
  return std::nullopt;
}

size_t flag_set::size() const {
  return static_cast<size_t>(__builtin_popcount(recorded_)) + other_.size();
}

}  // namespace callq::events
