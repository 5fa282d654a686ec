// Percent-encoding (RFC 3986's unreserved characters kept, every other
// byte as %XX): form bodies to Twilio, URLs filled in from call data.
#pragma once

#include <string>

namespace callq {

/// `s` with every byte but letters, digits, '-', '_', '.' and '~' as %XX.
std::string form_encode(const std::string& s);

}  // namespace callq
