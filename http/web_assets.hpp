// The browser pages (`/wallboard`, `/reports`), their scripts and style,
// and Chart.js from Debian's libjs-chart.js: files embedded into the
// binary at build time (http/web/embed.cmake), served as they are.
#pragma once

#include <string_view>
#include <vector>

namespace callq::http {

/// One embedded file.
struct web_asset {
  std::string_view path;          ///< the URL path it is served at, e.g. "/wallboard"
  std::string_view content_type;  ///< e.g. "text/html; charset=utf-8"
  std::string_view body;          ///< the file's bytes
};

/// Every embedded file, in no particular order. Defined in the generated
/// web_assets.cpp.
const std::vector<web_asset>& web_assets();

}  // namespace callq::http
