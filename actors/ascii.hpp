#pragma once

/// Character classes of ASCII, whatever the C locale: the checks of names,
/// ids, numbers and language tags that the webhooks run on every request.

namespace callq {

/// 'A'-'Z' or 'a'-'z'.
constexpr bool ascii_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/// '0'-'9'.
constexpr bool ascii_digit(char c) { return c >= '0' && c <= '9'; }

/// A letter or a digit.
constexpr bool ascii_alnum(char c) { return ascii_alpha(c) || ascii_digit(c); }

}  // namespace callq
