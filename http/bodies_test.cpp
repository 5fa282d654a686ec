#include "http/bodies.hpp"

#include <catch2/catch.hpp>

using namespace callq;
using namespace callq::http;

TEST_CASE("ids: 1-64 ASCII letters or digits or . _ @ -") {
  CHECK(valid_id("a"));
  CHECK(valid_id("ana.lopez@example-1_x"));
  CHECK(valid_id(std::string(64, 'x')));
  CHECK_FALSE(valid_id(""));
  CHECK_FALSE(valid_id(std::string(65, 'x')));
  CHECK_FALSE(valid_id("ana lopez"));
  CHECK_FALSE(valid_id("ana/lopez"));
  CHECK_FALSE(valid_id("ana+1"));
  CHECK_FALSE(valid_id("jos\xc3\xa9"));
  CHECK_FALSE(valid_id("ana\n"));
}

TEST_CASE("phone numbers: + then 2-15 digits the first not 0") {
  CHECK(valid_e164("+15551234567"));
  CHECK(valid_e164("+12"));
  CHECK(valid_e164("+123456789012345"));
  CHECK_FALSE(valid_e164("+1234567890123456"));  // 16 digits
  CHECK_FALSE(valid_e164("+1"));
  CHECK_FALSE(valid_e164("+"));
  CHECK_FALSE(valid_e164(""));
  CHECK_FALSE(valid_e164("15551234567"));
  CHECK_FALSE(valid_e164("+05551234567"));
  CHECK_FALSE(valid_e164("+1555 1234567"));
  CHECK_FALSE(valid_e164("+1555123456a"));
  CHECK_FALSE(valid_e164("++15551234567"));
}
