#include "events/sha256.hpp"

#include <openssl/evp.h>

#include "events/event.hpp"

namespace callq::events {

std::string sha256_hex(std::string_view data) {
  chain_value md{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr);
  return to_hex(md);
}

}  // namespace callq::events
