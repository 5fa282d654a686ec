#include "http/voice_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

namespace callq::http {

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string base64url(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=')
    out.pop_back();
  for (char& c : out)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

bool base64url_decode(const std::string& text, std::string* bytes) {
  std::string b64 = text;
  for (char& c : b64) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/')
      return false;
  }
  while (b64.size() % 4 != 0)
    b64.push_back('=');
  std::string out(3 * b64.size() / 4 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0)
    return false;
  // EVP_DecodeBlock counts the padding's zero bytes too.
  size_t pad = 0;
  for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i)
    ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  *bytes = std::move(out);
  return true;
}

std::string voice_access_token(const voice_token_settings& s, const std::string& identity,
                               int64_t now_seconds) {
  nlohmann::ordered_json header = {{"alg", "HS256"}, {"typ", "JWT"}, {"cty", "twilio-fpa;v=1"}};
  nlohmann::ordered_json payload = {
      {"jti", s.api_key_sid + "-" + std::to_string(now_seconds)},
      {"grants",
       {{"identity", identity},
        {"voice",
         {{"incoming", {{"allow", true}}},
          {"outgoing", {{"application_sid", s.twiml_app_sid}}}}}}},
      {"nbf", now_seconds},
      {"iat", now_seconds},
      {"exp", now_seconds + s.ttl_seconds},
      {"iss", s.api_key_sid},
      {"sub", s.account_sid}};
  std::string signing = base64url(header.dump()) + "." + base64url(payload.dump());
  return signing + "." + base64url(hmac_sha256(s.api_key_secret, signing));
}

status verify_hs256(const std::string& jwt, const std::string& secret, std::string* header,
                    std::string* payload) {
  size_t a = jwt.find('.');
  size_t b = a == std::string::npos ? a : jwt.find('.', a + 1);
  if (b == std::string::npos || jwt.find('.', b + 1) != std::string::npos)
    return status::invalid_argument("a JWT has three parts separated by '.'");
  std::string sig;
  if (!base64url_decode(jwt.substr(0, a), header) ||
      !base64url_decode(jwt.substr(a + 1, b - a - 1), payload) ||
      !base64url_decode(jwt.substr(b + 1), &sig))
    return status::invalid_argument("a JWT part is not base64url");
  std::string want = hmac_sha256(secret, jwt.substr(0, b));
  if (sig.size() != want.size() || CRYPTO_memcmp(sig.data(), want.data(), sig.size()) != 0)
    return status::corruption("the JWT's HS256 signature does not match");
  return status::ok();
}

}  // namespace callq::http
