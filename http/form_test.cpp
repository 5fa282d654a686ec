#include "http/form.hpp"

#include <catch2/catch.hpp>

using namespace callq::http;

TEST_CASE("form bodies decode, keep order and reject bad escapes") {
  form_fields f;
  REQUIRE(parse_form("CallSid=CA1&From=%2B15551234567&Note=a+b&Empty=&Flag", &f));
  REQUIRE(f.size() == 5);
  CHECK(field(f, "From") == "+15551234567");
  CHECK(field(f, "Note") == "a b");
  CHECK(field(f, "Empty").empty());
  CHECK(has_field(f, "Flag"));
  CHECK_FALSE(has_field(f, "Missing"));
  CHECK(parse_form("", &f));
  CHECK(f.empty());
  CHECK_FALSE(parse_form("a=%zz", &f));
  CHECK_FALSE(parse_form("a=%4", &f));
  CHECK_FALSE(parse_form("=value", &f));
}

TEST_CASE("form bodies: an escape cut short or not hex is refused, a repeated field's last value counts") {
  form_fields f;
  CHECK_FALSE(parse_form("a=%4", &f));
  // Cut short at the end of the body, whatever follows it in memory.
  CHECK_FALSE(parse_form(std::string_view("a=%41", 4), &f));
  CHECK_FALSE(parse_form("a=%", &f));
  CHECK_FALSE(parse_form("a=%4G", &f));
  CHECK_FALSE(parse_form("a=%G4", &f));
  REQUIRE(parse_form("a=%41&b=%4a", &f));
  CHECK(field(f, "a") == "A");
  CHECK(field(f, "b") == "J");
  REQUIRE(parse_form("To=1&To=2", &f));
  CHECK(field(f, "To") == "2");
}
