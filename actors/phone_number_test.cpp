#include "actors/phone_number.hpp"

#include <catch2/catch.hpp>

using callq::is_dialable_number;

TEST_CASE("which callers can be called back, by table") {
  struct row {
    const char* from;
    bool dialable;
  };
  const row rows[] = {
      {"+15551234567", true},      // US
      {"+491701234567", true},     // Germany, mobile
      {"+442071234567", true},     // UK
      {"+3547001234", true},       // short national plan (Iceland)
      {"+123456789012345", true},  // 15 digits, E.164's longest
      {"+1234567890123456", false},  // 16 digits
      {"+123456", false},          // too short for any plan
      {"+05551234567", false},     // no country code starts with 0
      {"15551234567", false},      // not E.164: no "+"
      {"+1 555 123 4567", false},  // spaces
      {"+1555123456a", false},
      {"", false},
      {"+", false},
      {"anonymous", false},
      {"Anonymous", false},
      {"restricted", false},
      {"RESTRICTED", false},
      {"unknown", false},
      {"unavailable", false},
      {"private", false},
      {"+266696687", false},   // ANONYMOUS on the keypad
      {"+7378742833", false},  // RESTRICTED
      {"+8656696", false},     // UNKNOWN
      {"+86282452253", false}, // UNAVAILABLE
      {"+2562533", false},     // BLOCKED
      {"client:alice", false},
      {"client:+15551234567", false},
      {"sip:bob@example.com", false},
      {"sip:+15551234567@example.com", false},
  };
  for (const auto& r : rows) {
    INFO("From=" << r.from);
    CHECK(is_dialable_number(r.from) == r.dialable);
  }
}
