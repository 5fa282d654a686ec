// SHA-256 for state digests and stored token hashes.
#pragma once

#include <string>
#include <string_view>

namespace callq::events {

/// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace callq::events
