#include "events/sha256.hpp"

#include <stdexcept>

#include <openssl/evp.h>

namespace callq::events {

namespace {

/// SHA-256 as fetched once from the default provider.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  if (md == nullptr)
    throw std::runtime_error("OpenSSL has no SHA-256");
  return md;
}

}  // namespace

chain_value sha256(std::string_view a, std::string_view b) {
  struct ctx_holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~ctx_holder() { EVP_MD_CTX_free(ctx); }
  };
  thread_local ctx_holder h;
  chain_value out{};
  unsigned int len = 0;
  if (h.ctx == nullptr || EVP_DigestInit_ex2(h.ctx, sha256_md(), nullptr) != 1 ||
      EVP_DigestUpdate(h.ctx, a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(h.ctx, b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(h.ctx, out.data(), &len) != 1)
    throw std::runtime_error("SHA-256 failed");
  return out;
}

std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

}  // namespace callq::events
