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
  // Another token in between, and an empty one: each is keyed afresh and
  // the first token's signature is unchanged after them (values from
  // Python's hmac module).
  CHECK(twilio_signature("another token", "https://example.com/myapp.php?foo=1&bar=2", f) ==
        "BWr/1qauxKApKeP8/hThUzalFW0=");
  CHECK(twilio_signature("", "https://example.com/myapp.php?foo=1&bar=2", f) ==
        "rU/Zq3n8snT61b49HUWbl3qGAg4=");
  CHECK(twilio_signature("12345", "https://example.com/myapp.php?foo=1&bar=2", f) ==
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

TEST_CASE("the signed URL variants are exactly those Twilio's helper tries") {
  using v = std::vector<std::string>;
  CHECK(twilio_signed_urls("https://cq.example.com:8443/api/x?queue=support") ==
        v{"https://cq.example.com:8443/api/x?queue=support", "https://cq.example.com/api/x?queue=support"});
  CHECK(twilio_signed_urls("https://cq.example.com/api/x") ==
        v{"https://cq.example.com:443/api/x", "https://cq.example.com/api/x"});
  CHECK(twilio_signed_urls("https://cq.example.com:443/api/x") ==
        v{"https://cq.example.com:443/api/x", "https://cq.example.com/api/x"});
  CHECK(twilio_signed_urls("http://cq.example.com/api/x") ==
        v{"http://cq.example.com:80/api/x", "http://cq.example.com/api/x"});
  CHECK(twilio_signed_urls("http://[::1]:8080/api/x?a=b:c") ==
        v{"http://[::1]:8080/api/x?a=b:c", "http://[::1]/api/x?a=b:c"});
  CHECK(twilio_signed_urls("http://[::1]/api/x") == v{"http://[::1]:80/api/x", "http://[::1]/api/x"});
  CHECK(twilio_signed_urls("https://user:pw@cq.example.com/api/x") ==
        v{"https://user:pw@cq.example.com:443/api/x", "https://user:pw@cq.example.com/api/x"});
  // The scheme without case, for its default port.
  CHECK(twilio_signed_urls("HTTPS://cq.example.com/api/x") ==
        v{"HTTPS://cq.example.com:443/api/x", "HTTPS://cq.example.com/api/x"});
  // Not an absolute URL: only itself.
  CHECK(twilio_signed_urls("/api/x") == v{"/api/x"});
}

TEST_CASE("signature variants, by table: accepted when signed right, refused otherwise") {
  const std::string token = "secret-token";
  const form_fields fields = {{"CallSid", "CA1"}, {"From", "+15551234567"}, {"To", "+15559990000"},
                              {"AccountSid", "ACtest"}, {"CallStatus", "ringing"}};
  const std::string target = "/api/webhooks/twilio/voice?queue=support&priority=2";
  struct row {
    const char* base;       // PUBLIC_BASE_URL
    std::string signed_url;  // the URL Twilio signed
    bool accepted;
  };
  const row rows[] = {
      // A non-default port: with it or without it, never another port.
      {"https://cq.example.com:8443", "https://cq.example.com:8443" + target, true},
      {"https://cq.example.com:8443", "https://cq.example.com" + target, true},
      {"https://cq.example.com:8443", "https://cq.example.com:443" + target, false},
      {"https://cq.example.com:8443", "https://cq.example.com:8444" + target, false},
      {"https://cq.example.com:8443", "http://cq.example.com:8443" + target, false},
      // No port configured: without it or with the scheme's default.
      {"https://cq.example.com", "https://cq.example.com" + target, true},
      {"https://cq.example.com", "https://cq.example.com:443" + target, true},
      {"https://cq.example.com", "https://cq.example.com:80" + target, false},
      {"https://cq.example.com", "https://cq.example.com:8443" + target, false},
      {"https://cq.example.com", "http://cq.example.com" + target, false},
      {"http://cq.example.com", "http://cq.example.com" + target, true},
      {"http://cq.example.com", "http://cq.example.com:80" + target, true},
      {"http://cq.example.com", "http://cq.example.com:443" + target, false},
      {"http://cq.example.com", "https://cq.example.com" + target, false},
      // The default port configured explicitly.
      {"https://cq.example.com:443", "https://cq.example.com" + target, true},
      {"https://cq.example.com:443", "https://cq.example.com:443" + target, true},
      {"http://localhost:8080", "http://localhost:8080" + target, true},
      {"http://localhost:8080", "http://localhost" + target, true},
      {"http://localhost:8080", "http://localhost:80" + target, false},
      // Another host, path or query than the request's.
      {"https://cq.example.com", "https://other.example.com" + target, false},
      {"https://cq.example.com", "https://cq.example.com/api/webhooks/twilio/voice?queue=sales&priority=2", false},
      {"https://cq.example.com", "https://cq.example.com/api/webhooks/twilio/voice?priority=2&queue=support", false},
      {"https://cq.example.com", "https://cq.example.com/api/webhooks/twilio/voice", false},
      {"https://cq.example.com", "https://cq.example.com/api/webhooks/twilio/voice/?queue=support&priority=2", false},
      {"https://cq.example.com", "https://cq.example.com/api/webhooks/twilio/call-status?queue=support&priority=2", false},
  };
  for (const auto& r : rows) {
    INFO(r.base << " signed over " << r.signed_url);
    std::string sig = twilio_signature(token, r.signed_url, fields);
    CHECK(twilio_signature_valid(token, r.base + target, fields, sig) == r.accepted);
  }
}

TEST_CASE("a signature over other parameters, another token or none is refused") {
  const std::string url = "https://cq.example.com:8443/api/webhooks/twilio/voice?queue=support";
  const std::string unported = "https://cq.example.com/api/webhooks/twilio/voice?queue=support";
  const form_fields fields = {{"CallSid", "CA1"}, {"From", "+15551234567"}, {"Digits", "1"}};
  for (const auto& signed_url : {url, unported}) {
    INFO(signed_url);
    std::string sig = twilio_signature("tok", signed_url, fields);
    CHECK(twilio_signature_valid("tok", url, fields, sig));
    form_fields changed = fields;
    changed[2].second = "2";
    CHECK_FALSE(twilio_signature_valid("tok", url, changed, sig));
    form_fields added = fields;
    added.emplace_back("Extra", "x");
    CHECK_FALSE(twilio_signature_valid("tok", url, added, sig));
    form_fields dropped(fields.begin(), fields.end() - 1);
    CHECK_FALSE(twilio_signature_valid("tok", url, dropped, sig));
    CHECK_FALSE(twilio_signature_valid("other", url, fields, sig));
    CHECK_FALSE(twilio_signature_valid("tok", url, fields, ""));
    CHECK_FALSE(twilio_signature_valid("tok", url, fields, sig + "x"));
  }
}

TEST_CASE("a query string is signed as received, escapes and all") {
  const std::string base = "https://cq.example.com";
  const std::string raw = "/api/webhooks/twilio/voice?queue=support%20team&skills=es%3A3";
  const form_fields fields = {{"CallSid", "CA1"}};
  std::string sig = twilio_signature("tok", base + raw, fields);
  CHECK(twilio_signature_valid("tok", base + raw, fields, sig));
  // The decoded form is another URL.
  CHECK_FALSE(twilio_signature_valid("tok", base + "/api/webhooks/twilio/voice?queue=support team&skills=es:3",
                                     fields, sig));
}

TEST_CASE("a repeated parameter counts each distinct value once, sorted") {
  form_fields a = {{"CallSid", "CA1"}, {"Tag", "b"}, {"Tag", "a"}};
  form_fields b = {{"Tag", "a"}, {"CallSid", "CA1"}, {"Tag", "b"}, {"Tag", "b"}};
  CHECK(twilio_signature("t", "https://x/p", a) == twilio_signature("t", "https://x/p", b));
  CHECK(twilio_signature("t", "https://x/p", a) ==
        twilio_signature("t", "https://x/p", form_fields{{"CallSid", "CA1"}, {"Tag", "a"}, {"Tag", "b"}}));
}
