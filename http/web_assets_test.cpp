#include "http/web_assets.hpp"

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

using callq::http::web_asset;
using callq::http::web_assets;

namespace {

const web_asset* find(std::string_view path) {
  for (auto& a : web_assets())
    if (a.path == path)
      return &a;
  return nullptr;
}

}  // namespace

TEST_CASE("the pages, their scripts and Chart.js are embedded whole") {
  for (auto path : {"/wallboard", "/reports", "/assets/callq.css", "/assets/token.js",
                    "/assets/wallboard.js", "/assets/reports.js", "/assets/chart.min.js"}) {
    INFO(path);
    const web_asset* a = find(path);
    REQUIRE(a != nullptr);
    CHECK(a->body.size() > 100);
    CHECK(a->body.find('\0') == std::string_view::npos);
  }
  CHECK(find("/wallboard")->content_type == "text/html; charset=utf-8");
  CHECK(find("/assets/callq.css")->content_type == "text/css; charset=utf-8");
  CHECK(find("/assets/wallboard.js")->content_type == "text/javascript; charset=utf-8");
  // Chart.js is Debian's copy, split into several literals and joined whole.
  const web_asset* chart = find("/assets/chart.min.js");
  CHECK(chart->body.substr(0, 20).find("Chart.js v3") != std::string_view::npos);
  CHECK(chart->body.size() > 120000);
  std::ifstream in(CALLQ_CHART_JS_PATH, std::ios::binary);
  std::stringstream disk;
  disk << in.rdbuf();
  CHECK(chart->body == disk.str());
  // Pages end as HTML documents end: nothing cut off at a literal's seam.
  CHECK(find("/wallboard")->body.find("</html>") != std::string_view::npos);
  // Each page loads only callq's own files.
  for (auto page : {"/wallboard", "/reports"}) {
    std::string_view body = find(page)->body;
    CHECK(body.find("http://") == std::string_view::npos);
    CHECK(body.find("https://") == std::string_view::npos);
  }
  std::set<std::string_view> paths;
  for (auto& a : web_assets())
    CHECK(paths.insert(a.path).second);
}
