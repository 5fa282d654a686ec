// application/x-www-form-urlencoded bodies and query strings.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "events/status.hpp"

namespace callq::http {

/// Decoded name/value pairs in the order they came.
using form_fields = std::vector<std::pair<std::string, std::string>>;

/// Parses `text` ("a=1&b=x%20y"); '+' is a space. Fails on a malformed
/// percent escape or a field without a name.
status parse_form(std::string_view text, form_fields* out);

/// The last value of `name`, or empty.
std::string field(const form_fields& f, const std::string& name);

/// True when `name` is present.
bool has_field(const form_fields& f, const std::string& name);

}  // namespace callq::http
