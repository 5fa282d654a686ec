#include "actors/log.hpp"

#include <catch2/catch.hpp>

using namespace callq;

TEST_CASE("log lines carry an ISO 8601 UTC time and a level") {
  CHECK(format_log_line(log_level::warn, 1'795'608'000'123, "disk low") ==
        "2026-11-25T12:00:00.123Z WARN  disk low");
  CHECK(format_log_line(log_level::error, 0, "x") == "1970-01-01T00:00:00.000Z ERROR x");
  CHECK(format_log_line(log_level::info, 1'000, "y").substr(24) == " INFO  y");
}
