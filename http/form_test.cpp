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
