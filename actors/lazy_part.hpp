// A part of a value that most values never need, allocated on its first
// write: a waiting call's state and its view in the matching index keep
// what only offers, callbacks, skills and preferred agents set in one.
#pragma once

#include <memory>

namespace callq {

/// A part of a value that is absent until first written: copies copy the
/// part, reads of an absent part see a default one.
template <class T> class lazy_part {
 public:
  lazy_part() = default;
  lazy_part(const lazy_part& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  lazy_part(lazy_part&&) noexcept = default;
  lazy_part& operator=(const lazy_part& o) {
    if (this != &o)
      p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  lazy_part& operator=(lazy_part&&) noexcept = default;
  /// The part, or a default one when never written.
  const T& get() const {
    static const T none{};
    return p_ ? *p_ : none;
  }
  /// The part to write, made when absent.
  T& edit() {
    if (!p_)
      p_ = std::make_unique<T>();
    return *p_;
  }
  /// Whether the part was ever written.
  bool present() const { return p_ != nullptr; }

 private:
  std::unique_ptr<T> p_;
};

}  // namespace callq
