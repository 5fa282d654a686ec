// A CallSid held once per open call. The registry makes it when the call's
// actor is first spawned (or the call is restored passivated); the actor,
// the timer service's deadline and the dispatcher's view of the call share
// that one immutable copy instead of each keeping a string of their own (a
// Twilio CallSid is 34 characters: every std::string copy of it is 80 bytes
// in two allocations; this is 8 bytes a holder, and one allocation).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <functional>
#include <new>
#include <string>
#include <string_view>

namespace callq {

class call_sid {
 public:
  /// The empty CallSid (no allocation).
  call_sid() = default;
  /// A new copy of `text`, made once and then shared by copying the handle.
  explicit call_sid(std::string_view text) {
    if (text.empty())
      return;
    rep_ = static_cast<rep*>(::operator new(offsetof(rep, text) + text.size()));
    new (&rep_->refs) std::atomic<uint32_t>(1);
    rep_->size = static_cast<uint32_t>(text.size());
    std::memcpy(rep_->text, text.data(), text.size());
  }
  call_sid(const call_sid& o) noexcept : rep_(o.rep_) {
    if (rep_)
      rep_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  call_sid(call_sid&& o) noexcept : rep_(o.rep_) { o.rep_ = nullptr; }
  call_sid& operator=(call_sid o) noexcept {
    std::swap(rep_, o.rep_);
    return *this;
  }
  ~call_sid() {
    if (rep_ && rep_->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      rep_->refs.~atomic();
      ::operator delete(rep_);
    }
  }

  /// The characters; valid as long as any handle to this copy lives (they
  /// never move, so a map may key by this view while its value holds the
  /// handle).
  std::string_view view() const {
    return rep_ ? std::string_view(rep_->text, rep_->size) : std::string_view();
  }
  operator std::string_view() const { return view(); }
  std::string str() const { return std::string(view()); }
  bool empty() const { return rep_ == nullptr; }

  friend bool operator==(const call_sid& a, const call_sid& b) {
    return a.rep_ == b.rep_ || a.view() == b.view();
  }
  friend bool operator!=(const call_sid& a, const call_sid& b) { return !(a == b); }
  friend bool operator==(const call_sid& a, std::string_view b) { return a.view() == b; }
  friend bool operator!=(const call_sid& a, std::string_view b) { return a.view() != b; }
  /// By characters (never by where a copy happens to be allocated).
  friend bool operator<(const call_sid& a, const call_sid& b) { return a.view() < b.view(); }

 private:
  struct rep {
    std::atomic<uint32_t> refs;
    uint32_t size;
    char text[1];  ///< `size` characters, not terminated
  };
  rep* rep_ = nullptr;
};

}  // namespace callq

/// Hashes as the characters do (std::hash<std::string_view>), so a map
/// keyed by call_sid and one keyed by a view of it agree.
template <>
struct std::hash<callq::call_sid> {
  size_t operator()(const callq::call_sid& s) const noexcept {
    return std::hash<std::string_view>{}(s.view());
  }
};
