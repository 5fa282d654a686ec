#include "http/signature.hpp"

#include <catch2/catch.hpp>

using namespace callq::http;

TEST_CASE("Twilio's published signature test vector") {
  form_fields f = {{"CallSid", "CA1234567890ABCDE"}, {"Caller", "+14158675310"},
                   {"Digits", "1234"}, {"From", "+14158675310"}, {"To", "+18005551212"}};
  CHECK(twilio_signature("12345", "https://example.com/myapp.php?foo=1&bar=2", f) ==
        "L/OH5YylLD5NRKLltdqwSvS0BnU=");
  // Order of the fields in the body does not matter; their values do.
  form_fields shuffled = {f[3], f[0], f[4], f[2], f[1]};
  CHECK(twilio_signature("12345", "https://example.com/myapp.php?foo=1&bar=2", shuffled) ==
        "L/OH5YylLD5NRKLltdqwSvS0BnU=");
  f[2].second = "1235";
  CHECK(twilio_signature("12345", "https://example.com/myapp.php?foo=1&bar=2", f) !=
        "L/OH5YylLD5NRKLltdqwSvS0BnU=");
}

TEST_CASE("constant-time comparison and token helpers") {
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  auto a = random_token(), b = random_token();
  CHECK(a.size() == 64);
  CHECK(a != b);
}
