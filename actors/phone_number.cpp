#include "actors/phone_number.hpp"

#include <algorithm>
#include <array>

namespace callq {

namespace {

/// Twilio spells a withheld caller ID on the keypad ("ANONYMOUS" is
/// 266696687) and passes it on in `From` as if it were a number.
constexpr std::array<const char*, 5> withheld_placeholders = {
    "+266696687", "+7378742833", "+8656696", "+86282452253", "+2562533"};

}  // namespace

bool is_dialable_number(const std::string& from) {
  if (from.size() < 8 || from.size() > 16 || from[0] != '+' || from[1] == '0')
    return false;
  if (!std::all_of(from.begin() + 1, from.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  return std::none_of(withheld_placeholders.begin(), withheld_placeholders.end(),
                      [&](const char* p) { return from == p; });
}

}  // namespace callq
