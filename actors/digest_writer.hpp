// The text of a state digest (call_state, agent_state, world): what a
// std::ostream's << writes for the same values (integers in decimal,
// bools as 0 and 1, strings and characters as they are), appended to one
// string without a stream per entity. A digest is compared with digests
// recorded in logs by earlier builds (`callq replay --verify`), so its
// bytes never change; a type this does not know (a double, say) does not
// compile rather than print differently.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <type_traits>

namespace callq {

class digest_writer {
 public:
  /// Appends to `*out`.
  explicit digest_writer(std::string* out) : out_(out) {}

  /// Text as it is (a std::string too, through its view).
  digest_writer& operator<<(std::string_view s) {
    out_->append(s);
    return *this;
  }
  digest_writer& operator<<(const char* s) {
    out_->append(s);
    return *this;
  }
  digest_writer& operator<<(char c) {
    out_->push_back(c);
    return *this;
  }
  digest_writer& operator<<(bool b) {
    out_->push_back(b ? '1' : '0');
    return *this;
  }
  /// Any other integer, in decimal (not signed or unsigned char, which a
  /// stream writes as a character: they do not compile).
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                                          !std::is_same_v<T, char> &&
                                          !std::is_same_v<T, signed char> &&
                                          !std::is_same_v<T, unsigned char>,
                                      int> = 0>
  digest_writer& operator<<(T v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_->append(buf, r.ptr);
    return *this;
  }

 private:
  std::string* out_;
};

}  // namespace callq
