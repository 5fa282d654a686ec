#include "actors/percent_encoding.hpp"

#include <catch2/catch.hpp>

using callq::form_encode;

TEST_CASE("form encoding keeps RFC 3986's unreserved characters and writes every other byte as %XX") {
  CHECK(form_encode("") == "");
  CHECK(form_encode("AZaz09-_.~") == "AZaz09-_.~");
  CHECK(form_encode("+15551234567") == "%2B15551234567");  // a number's '+' is not a space
  CHECK(form_encode("client:alice") == "client%3Aalice");
  CHECK(form_encode("a b&c=d/e?f") == "a%20b%26c%3Dd%2Fe%3Ff");
  CHECK(form_encode("\xc3\xa9") == "%C3%A9");  // UTF-8 bytes, upper-case hex
  CHECK(form_encode(std::string("\x00\x7f\xff", 3)) == "%00%7F%FF");
}
