// SHA-256 for the log's integrity chain, state digests and stored token
// hashes.
#pragma once

#include <string>
#include <string_view>

#include "events/event.hpp"

namespace callq::events {

/// SHA-256 of `a` followed by `b`. One digest context per thread, and the
/// algorithm fetched from OpenSSL's provider once per process, not on
/// every call (which costs as much as hashing a few hundred bytes).
chain_value sha256(std::string_view a, std::string_view b = {});

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace callq::events
