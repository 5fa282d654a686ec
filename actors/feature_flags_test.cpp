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
    on += flags.get("FEATURE_QUEUE_POSITION_UPDATES") == 1;
    CHECK(flags.get("FEATURE_ENHANCED_QUEUE") == 1);  // the others as configured
    CHECK(flags.size() == feature_names().size());
  }
  CHECK(on >= 200);
  CHECK(on <= 300);
  // A call's decisions run under its recorded flags; unrecorded ones keep
  // the server's.
  int32_t bits = flag_bits({{"FEATURE_QUEUE_POSITION_UPDATES", 0}, {"FEATURE_AGENT_POLLING", 1}});
  policy off = p;
  off.feature_agent_polling = false;
  policy under = with_call_flags(off, bits);
  CHECK_FALSE(under.feature_queue_position_updates);
  CHECK(under.feature_agent_polling);  // recorded on, though the server's is off now
  CHECK(under.feature_enhanced_queue);
  CHECK(flag_on(bits, feature_index::queue_position_updates, true) == false);
  CHECK(flag_on(bits, feature_index::enhanced_queue, false) == false);  // not recorded
  CHECK(with_call_flags(off, 0).feature_agent_polling == false);  // nothing recorded
  // Every flag_for_call map turns into bits and back.
  auto all = flags_for_call(p, "+15552000000");
  policy back = with_call_flags(off, flag_bits(all));
  for (auto& name : feature_names())
    CHECK(*feature_flag(back, name) == (all.get(name) == 1));
  CHECK(feature_path({{"FEATURE_A", 1}, {"FEATURE_B", 0}}) == "off: FEATURE_B");
  CHECK(feature_path({{"FEATURE_A", 1}}) == "all on");
  CHECK(feature_path({}) == "unrecorded");
}

TEST_CASE("feature flags: recorded names this build does not know are passed over") {
  int32_t bits = flag_bits({{"FEATURE_AAA", 1},
                            {"FEATURE_CALLBACK_REQUEST_SYSTEM", 1},
                            {"FEATURE_M", 0},
                            {"FEATURE_QUEUE_HOLD_MUSIC", 0},
                            {"FEATURE_ZZZ", 1}});
  CHECK(flag_on(bits, feature_index::callback_request_system, false));
  CHECK_FALSE(flag_on(bits, feature_index::queue_hold_music, true));
  CHECK(flag_on(bits, feature_index::agent_polling, true));  // not recorded: the fallback
  CHECK(bits == ((1 << 16 << 8) | (1 << 8) | (1 << 16 << 4)));
  // A known name recorded with another value than 0 or 1 is on unless 0.
  CHECK(flag_on(flag_bits({{"FEATURE_AGENT_POLLING", 2}}), feature_index::agent_polling, false));
  CHECK(flag_bits({{"FEATURE_AGENT_POLLING", 2}}) == ((1 << 16 << 6) | (1 << 6)));
  CHECK(feature_path({{"FEATURE_AGENT_POLLING", 0}, {"FEATURE_AAA", 0}, {"FEATURE_ZZZ", 1}}) ==
        "off: FEATURE_AAA, FEATURE_AGENT_POLLING");
  CHECK(flag_bits({}) == 0);
  // Every flag is recorded, each as the policy says without shares.
  policy p;
  p.feature_agent_polling = false;
  auto flags = flags_for_call(p, "+15550000000");
  CHECK(flags.size() == feature_names().size());
  CHECK(flags.get("FEATURE_AGENT_POLLING") == 0);
  CHECK(flags.get("FEATURE_AGENT_HEARTBEAT") == (p.feature_agent_heartbeat ? 1 : 0));
  CHECK((flag_bits(flags) >> 16) == 0x1ff);  // all nine recorded
  CHECK_FALSE(flag_on(flag_bits(flags), feature_index::agent_polling, true));
}

TEST_CASE("feature flags: a share of N% takes the callers whose bucket is below N") {
  // The caller's bucket is 92 (the first case above): 92 % leaves it out,
  // 93 % takes it; 0 % takes nobody, 100 % everybody, whatever the flag's
  // own setting.
  policy p;
  p.feature_queue_hold_music = false;
  for (auto [share, on] : {std::pair<int64_t, int64_t>{92, 0}, {93, 1}, {0, 0}, {100, 1}}) {
    INFO("share " << share);
    p.feature_shares["FEATURE_QUEUE_HOLD_MUSIC"] = share;
    CHECK(flags_for_call(p, "+15551230001").get("FEATURE_QUEUE_HOLD_MUSIC") == on);
  }
}

TEST_CASE("feature flags: a call runs under every flag it recorded, the last one too") {
  policy on, off;
  for (auto& name : feature_names()) {
    *feature_flag(on, name) = true;
    *feature_flag(off, name) = false;
  }
  policy under = with_call_flags(on, flag_bits(flags_for_call(off, "+15550000000")));
  for (auto& name : feature_names()) {
    INFO(name);
    CHECK_FALSE(*feature_flag(under, name));
  }
  // A recorded value other than 0 is on, in the reports' path as in bits.
  CHECK(feature_path({{"FEATURE_AGENT_POLLING", 2}}) == "all on");
}
