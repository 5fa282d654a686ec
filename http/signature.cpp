#include "http/signature.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "events/sha256.hpp"

namespace callq::http {

std::string twilio_signature(const std::string& auth_token, const std::string& url,
                             const form_fields& post_fields) {
  auto sorted = post_fields;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string data = url;
  for (auto& [k, v] : sorted) {
    data += k;
    data += v;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), auth_token.data(), static_cast<int>(auth_token.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  std::string out(4 * ((len + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::vector<std::string> twilio_signed_urls(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return {url};
  size_t host_begin = scheme_end + 3;
  size_t authority_end = url.find_first_of("/?#", host_begin);
  if (authority_end == std::string::npos)
    authority_end = url.size();
  // The port is what follows the last ':' of the authority, unless that
  // ':' is inside an IPv6 literal or part of user:password.
  size_t at = url.rfind('@', authority_end);
  if (at != std::string::npos && at >= host_begin)
    host_begin = at + 1;
  size_t colon = url.rfind(':', authority_end);
  size_t bracket = url.rfind(']', authority_end);
  bool has_port = colon != std::string::npos && colon >= host_begin &&
                  (bracket == std::string::npos || bracket < host_begin || colon > bracket);
  std::string scheme = url.substr(0, scheme_end);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string default_port = scheme == "https" ? "443" : "80";
  std::string head = url.substr(0, has_port ? colon : authority_end);
  std::string tail = url.substr(authority_end);
  std::string port = has_port ? url.substr(colon + 1, authority_end - colon - 1) : "";
  if (port.empty() || port == default_port)
    return {head + ":" + default_port + tail, head + tail};
  return {head + ":" + port + tail, head + tail};
}

bool twilio_signature_valid(const std::string& auth_token, const std::string& url,
                            const form_fields& post_fields, const std::string& given) {
  if (given.empty())
    return false;
  bool valid = false;
  for (const auto& u : twilio_signed_urls(url))  // no early exit: same time either way
    valid |= constant_time_equal(twilio_signature(auth_token, u, post_fields), given);
  return valid;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string sha256_hex(const std::string& data) { return events::sha256_hex(data); }

std::string random_token() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1)
    throw std::runtime_error("no randomness for a token");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buf) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

}  // namespace callq::http
