#include "http/voice_token.hpp"

#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

using namespace callq::http;

namespace {

std::string fixture() {
  std::ifstream in(CALLQ_VOICE_TOKEN_FIXTURE);
  std::string jwt;
  std::getline(in, jwt);
  return jwt;
}

voice_token_settings settings() {
  voice_token_settings s;
  s.account_sid = "AC00000000000000000000000000000001";
  s.api_key_sid = "SK00000000000000000000000000000002";
  s.api_key_secret = "test-secret-for-callq";
  s.twiml_app_sid = "AP00000000000000000000000000000003";
  s.ttl_seconds = 3600;
  return s;
}

/// HMAC-SHA256 through OpenSSL's EVP_DigestSign interface: another path
/// than the one the token code takes.
std::string evp_hmac(const std::string& key, const std::string& data) {
  EVP_PKEY* pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_HMAC, nullptr,
                                                reinterpret_cast<const unsigned char*>(key.data()),
                                                key.size());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char out[64];
  size_t len = sizeof out;
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
  EVP_DigestSignUpdate(ctx, data.data(), data.size());
  EVP_DigestSignFinal(ctx, out, &len);
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

TEST_CASE("voice token: the same as Twilio's helper library makes from the same inputs") {
  std::string twilio = fixture();  // http/testdata/make_voice_token.sh
  REQUIRE_FALSE(twilio.empty());
  CHECK(voice_access_token(settings(), "client-alice", 1796000000) == twilio);
}

TEST_CASE("voice token: the claims and header, and a signature checked independently") {
  std::string jwt = voice_access_token(settings(), "client-alice", 1796000000);
  std::string header, payload;
  REQUIRE(verify_hs256(jwt, "test-secret-for-callq", &header, &payload));
  auto h = nlohmann::json::parse(header);
  CHECK(h["alg"] == "HS256");
  CHECK(h["cty"] == "twilio-fpa;v=1");
  auto p = nlohmann::json::parse(payload);
  CHECK(p["iss"] == "SK00000000000000000000000000000002");
  CHECK(p["sub"] == "AC00000000000000000000000000000001");
  CHECK(p["jti"] == "SK00000000000000000000000000000002-1796000000");
  CHECK(p["exp"] == 1796003600);
  CHECK(p["grants"]["identity"] == "client-alice");
  CHECK(p["grants"]["voice"]["incoming"]["allow"] == true);
  CHECK(p["grants"]["voice"]["outgoing"]["application_sid"] == "AP00000000000000000000000000000003");
  // The signature, recomputed through another OpenSSL interface.
  size_t dot = jwt.rfind('.');
  CHECK(base64url(evp_hmac("test-secret-for-callq", jwt.substr(0, dot))) == jwt.substr(dot + 1));
  // And Twilio's own token verifies with the same code.
  CHECK(verify_hs256(fixture(), "test-secret-for-callq", &header, &payload));
}

TEST_CASE("voice token: a wrong secret or a changed claim fails verification") {
  std::string jwt = voice_access_token(settings(), "client-alice", 1796000000);
  std::string header, payload;
  CHECK(verify_hs256(jwt, "another-secret", &header, &payload).error_code() ==
        callq::status::code::corruption);
  std::string forged = jwt;
  size_t a = forged.find('.');
  forged[a + 5] = forged[a + 5] == 'A' ? 'B' : 'A';
  CHECK_FALSE(verify_hs256(forged, "test-secret-for-callq", &header, &payload));
  CHECK_FALSE(verify_hs256("not-a-jwt", "x", &header, &payload));
  std::string bytes;
  REQUIRE(base64url_decode(base64url("any carnal pleas"), &bytes));
  CHECK(bytes == "any carnal pleas");
  REQUIRE(base64url_decode(base64url("ab"), &bytes));
  CHECK(bytes == "ab");
}

TEST_CASE("base64url: '-' and '_' for '+' and '/', no padding, and the standard alphabet's two refused") {
  CHECK(base64url("\xfb\xff\xbf") == "-_-_");  // standard: "+/+/"
  CHECK(base64url("a") == "YQ");                   // standard: "YQ=="
  std::string bytes;
  REQUIRE(base64url_decode("-_-_", &bytes));
  CHECK(bytes == "\xfb\xff\xbf");
  REQUIRE(base64url_decode("YQ", &bytes));
  CHECK(bytes == "a");
  CHECK_FALSE(base64url_decode("+/+/", &bytes));
  CHECK_FALSE(base64url_decode("YQ+a", &bytes));
}

TEST_CASE("voice token: a JWT of other than three parts is refused") {
  auto s = settings();
  std::string jwt = voice_access_token(s, "alice", 1'795'608'000);
  std::string header, payload;
  REQUIRE(verify_hs256(jwt, s.api_key_secret, &header, &payload));
  auto four = verify_hs256(jwt + ".e30", s.api_key_secret, &header, &payload);
  CHECK_FALSE(four);
  CHECK(four.message().find("three parts") != std::string::npos);
  CHECK_FALSE(verify_hs256(jwt.substr(0, jwt.rfind('.')), s.api_key_secret, &header, &payload));
}
