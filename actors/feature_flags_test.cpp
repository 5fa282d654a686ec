#include "actors/feature_flags.hpp"

#include <catch2/catch.hpp>

using namespace callq;

TEST_CASE("feature flags: a share is decided by the caller's number, the same every time") {
  // SHA-256, first 8 bytes big-endian, mod 100 (checked with Python's hashlib).
  CHECK(traffic_bucket("+15551230001") == 92);
  CHECK(traffic_bucket("CA123") == 93);
  CHECK(traffic_bucket("") == 52);
  policy p;
  p.feature_shares["FEATURE_QUEUE_POSITION_UPDATES"] = 25;
  int on = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string number = "+1555" + std::to_string(2000000 + i);
    auto flags = flags_for_call(p, number);
    CHECK(flags == flags_for_call(p, number));  // the same path on every call
    on += flags.at("FEATURE_QUEUE_POSITION_UPDATES") == 1;
    CHECK(flags.at("FEATURE_ENHANCED_QUEUE") == 1);  // the others as configured
    CHECK(flags.size() == feature_names().size());
  }
  CHECK(on >= 200);
  CHECK(on <= 300);
  // A call's decisions run under its recorded flags; unrecorded ones keep
  // the server's.
  policy under = with_call_flags(p, {{"FEATURE_QUEUE_POSITION_UPDATES", 0}});
  CHECK_FALSE(under.feature_queue_position_updates);
  CHECK(under.feature_enhanced_queue);
  CHECK(feature_path({{"FEATURE_A", 1}, {"FEATURE_B", 0}}) == "off: FEATURE_B");
  CHECK(feature_path({{"FEATURE_A", 1}}) == "all on");
  CHECK(feature_path({}) == "unrecorded");
}
