// A call's recorded FEATURE_* flags (`call.arrived` `flags`), kept without
// allocating for the flags this build knows. Part of the event's encoding:
// the flags are written as a map of names in name order, 1 on, 0 off.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace callq::events {

/// The FEATURE_* flags this build knows, as the environment spells them. A
/// flag's number is its place here; names are only ever appended.
const std::vector<std::string>& feature_names();

/// The number of the flag called `name` in feature_names(), or nullopt
/// for a name this build does not know.
std::optional<size_t> feature_number(std::string_view name);

/// The numbers of feature_names() in the names' sorted order.
const std::vector<size_t>& features_in_name_order();

/// Names with a value each: the recorded flags of one call. A known flag
/// recorded as 0 or 1 is two bits (`recorded()`, `on()`, by feature
/// number); any other name or value (a later build's) is kept as
/// recorded in `other()`. Compares, encodes and iterates as the map of
/// every recorded name would.
class flag_set {
 public:
  /// Nothing recorded.
  flag_set() = default;

  /// Each name recorded with its value, in turn (set()).
  flag_set(std::initializer_list<std::pair<std::string_view, int64_t>> names) {
    for (auto& [name, value] : names)
      set(name, value);
  }

  /// Records `name` as `value`, replacing what it had.
  void set(std::string_view name, int64_t value);

  /// Records known flag `number` (< feature_names().size()) on or off.
  void set(size_t number, bool on);

  /// The value recorded for `name`, or nullopt when it is not recorded.
  std::optional<int64_t> get(std::string_view name) const;

  /// True when nothing is recorded.
  bool empty() const { return recorded_ == 0 && other_.empty(); }

  /// How many names are recorded.
  size_t size() const;

  /// Bit i set: known flag i is recorded as 0 or 1.
  uint32_t recorded() const { return recorded_; }

  /// Bit i set: known flag i is recorded as 1.
  uint32_t on() const { return on_; }

  /// Every other recorded name with its value.
  const std::map<std::string, int64_t, std::less<>>& other() const { return other_; }

  /// Calls `f(std::string_view name, int64_t value)` for every recorded
  /// name, in name order.
  template <class F> void for_each(F&& f) const {
    const auto& names = feature_names();
    auto next = other_.begin();
    for (size_t i : features_in_name_order()) {
      if ((recorded_ & (1u << i)) == 0)
        continue;
      for (; next != other_.end() && next->first < names[i]; ++next)
        f(std::string_view(next->first), next->second);
      f(std::string_view(names[i]), static_cast<int64_t>((on_ >> i) & 1u));
    }
    for (; next != other_.end(); ++next)
      f(std::string_view(next->first), next->second);
  }

  friend bool operator==(const flag_set& a, const flag_set& b) {
    return a.recorded_ == b.recorded_ && a.on_ == b.on_ && a.other_ == b.other_;
  }
  friend bool operator!=(const flag_set& a, const flag_set& b) { return !(a == b); }

 private:
  uint32_t recorded_ = 0;
  uint32_t on_ = 0;
  std::map<std::string, int64_t, std::less<>> other_;
};

}  // namespace callq::events
