#include "http/signature.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string_view>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "events/sha256.hpp"

namespace callq::http {

namespace {

/// HMAC-SHA1 of `data` under `key` into `mac` (20 bytes); returns its
/// length, 0 if OpenSSL failed (an empty signature, which matches none).
/// One MAC context per thread, keyed once per auth token and only reset
/// afterwards: OpenSSL's one-shot HMAC() looks the algorithm up in its
/// provider on every call, which costs more than the hash of a webhook's
/// fields.
unsigned int hmac_sha1(const std::string& key, std::string_view data, unsigned char* mac) {
  struct mac_holder {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr;
    std::string key;
    bool keyed = false;
    ~mac_holder() {
      EVP_MAC_CTX_free(ctx);
      EVP_MAC_free(mac);
    }
  };
  thread_local mac_holder h;
  if (h.ctx == nullptr)
    return 0;
  bool ready;
  if (h.keyed && h.key == key) {
    ready = EVP_MAC_init(h.ctx, nullptr, 0, nullptr) == 1;  // same key: reset only
  } else {
    char digest[] = "SHA1";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    ready = EVP_MAC_init(h.ctx, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                         params) == 1;
    h.key = key;
  }
  size_t len = 0;
  h.keyed = ready && EVP_MAC_update(h.ctx, reinterpret_cast<const unsigned char*>(data.data()),
                                    data.size()) == 1 &&
            EVP_MAC_final(h.ctx, mac, &len, EVP_MAX_MD_SIZE) == 1;
  return h.keyed ? static_cast<unsigned int>(len) : 0;
}

}  // namespace

std::string twilio_signature(const std::string& auth_token, const std::string& url,
                             const form_fields& post_fields) {
  // Sorted by name, then value, each distinct pair once: sorted pointers,
  // not a sorted copy of every string.
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(post_fields.size());
  size_t size = url.size();
  for (const auto& f : post_fields) {
    sorted.push_back(&f);
    size += f.first.size() + f.second.size();
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return *a < *b; });
  sorted.erase(std::unique(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return *a == *b; }),
               sorted.end());
  std::string data;
  data.reserve(size);
  data += url;
  for (const auto* f : sorted) {
    data += f->first;
    data += f->second;
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = hmac_sha1(auth_token, data, mac);
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
                  (bracket == std::string::npos || colon > bracket);
  std::string scheme = url.substr(0, scheme_end);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string default_port = scheme == "https" ? "443" : "80";
  std::string head = url.substr(0, has_port ? colon : authority_end);
  std::string tail = url.substr(authority_end);
  std::string port = has_port ? url.substr(colon + 1, authority_end - colon - 1) : "";
  return {head + ":" + (port.empty() ? default_port : port) + tail, head + tail};
}

bool twilio_signature_valid(const std::string& auth_token, const std::string& url,
                            const form_fields& post_fields, const std::string& given) {
  if (given.empty())
    return false;
  // The URL as received first: Twilio signs the URL as configured on the
  // number, which is PUBLIC_BASE_URL's own form, so a genuine request
  // usually matches at once and costs one HMAC. The other form is tried
  // only when that fails. Each comparison is in constant time; what an
  // early exit reveals is which form a valid signature used, not anything
  // about the token, and a forged request always pays for both.
  auto urls = twilio_signed_urls(url);
  std::stable_partition(urls.begin(), urls.end(), [&](const std::string& u) { return u == url; });
  for (const auto& u : urls)
    if (constant_time_equal(twilio_signature(auth_token, u, post_fields), given))
      return true;
  return false;
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
