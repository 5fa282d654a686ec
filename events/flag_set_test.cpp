#include "events/flag_set.hpp"

#include <catch2/catch.hpp>

#include "events/codec.hpp"

using namespace callq::events;

namespace {

// The flags as the map of every recorded name.
std::map<std::string, int64_t> as_map(const flag_set& s) {
  std::map<std::string, int64_t> m;
  std::string last;
  s.for_each([&](std::string_view k, int64_t v) {
    CHECK((m.empty() || std::string(k) > last));  // in name order, each once
    last = std::string(k);
    m.emplace(std::string(k), v);
  });
  return m;
}

}  // namespace

TEST_CASE("flag set: known flags are bits and other names are kept as recorded") {
  flag_set s;
  CHECK(s.empty());
  CHECK(s.size() == 0);
  s.set("FEATURE_QUEUE_HOLD_MUSIC", 0);
  s.set("FEATURE_AGENT_POLLING", 1);
  s.set("FEATURE_ZZZ", 1);
  s.set("FEATURE_AAA", 0);
  s.set("", 4);
  CHECK_FALSE(s.empty());
  CHECK(s.size() == 5);
  CHECK(s.recorded() == ((1u << 4) | (1u << 6)));
  CHECK(s.on() == (1u << 6));
  CHECK(s.other().size() == 3);
  CHECK(s.get("FEATURE_QUEUE_HOLD_MUSIC") == 0);
  CHECK(s.get("FEATURE_AGENT_POLLING") == 1);
  CHECK(s.get("FEATURE_ZZZ") == 1);
  CHECK(s.get("") == 4);
  CHECK_FALSE(s.get("FEATURE_ENHANCED_QUEUE"));
  CHECK(as_map(s) == std::map<std::string, int64_t>{{"", 4},
                                                    {"FEATURE_AAA", 0},
                                                    {"FEATURE_AGENT_POLLING", 1},
                                                    {"FEATURE_QUEUE_HOLD_MUSIC", 0},
                                                    {"FEATURE_ZZZ", 1}});
}

TEST_CASE("flag set: a known flag with another value is kept whole and replaced by a later set") {
  flag_set s;
  s.set("FEATURE_ENHANCED_QUEUE", 1);
  s.set("FEATURE_ENHANCED_QUEUE", 7);  // not 0 or 1: kept by name
  CHECK(s.recorded() == 0);
  CHECK(s.on() == 0);
  CHECK(s.get("FEATURE_ENHANCED_QUEUE") == 7);
  CHECK(s.size() == 1);
  s.set("FEATURE_ENHANCED_QUEUE", 0);  // back to a bit
  CHECK(s.other().empty());
  CHECK(s.recorded() == (1u << 3));
  CHECK(s.get("FEATURE_ENHANCED_QUEUE") == 0);
  CHECK(s.size() == 1);
  flag_set t;
  t.set(3, false);
  CHECK(s == t);
  t.set(3, true);
  CHECK(s != t);
}

TEST_CASE("flag set: every known name has its number and the name order covers them all") {
  const auto& names = feature_names();
  for (size_t i = 0; i < names.size(); ++i)
    CHECK(feature_number(names[i]) == i);
  CHECK_FALSE(feature_number("FEATURE_"));
  CHECK_FALSE(feature_number(""));
  CHECK_FALSE(feature_number("FEATURE_AGENT_HEARTBEAX"));  // a known length
  CHECK_FALSE(feature_number(std::string(200, 'F')));
  auto order = features_in_name_order();
  REQUIRE(order.size() == names.size());
  for (size_t k = 1; k < order.size(); ++k)
    CHECK(names[order[k - 1]] < names[order[k]]);
  flag_set all;
  for (size_t i = 0; i < names.size(); ++i)
    all.set(i, i % 2 == 0);
  auto m = as_map(all);
  CHECK(m.size() == names.size());
  for (size_t i = 0; i < names.size(); ++i)
    CHECK(m.at(names[i]) == (i % 2 == 0 ? 1 : 0));
}

TEST_CASE("flag set: call.arrived encodes its flags as the map of names it was before") {
  call_arrived a;
  a.flags.set("FEATURE_ZZZ", 2);
  a.flags.set("FEATURE_AGENT_POLLING", 0);
  a.flags.set("FEATURE_AGENT_HEARTBEAT", 1);
  a.flags.set("A", 1);
  std::string bytes;
  encode_payload(payload{a}, bytes);
  // The tail of the payload: the count, then each name and its zigzag value.
  std::string tail;
  put_varint(tail, 4);
  for (auto& [k, v] : std::map<std::string, int64_t>{
           {"A", 1}, {"FEATURE_AGENT_HEARTBEAT", 1}, {"FEATURE_AGENT_POLLING", 0}, {"FEATURE_ZZZ", 2}}) {
    put_string(tail, k);
    put_varint(tail, static_cast<uint64_t>(v) << 1);
  }
  REQUIRE(bytes.size() > tail.size());
  CHECK(bytes.substr(bytes.size() - tail.size()) == tail);
  CHECK(payload_to_json(payload{a})["flags"] ==
        nlohmann::json{{"A", 1}, {"FEATURE_AGENT_HEARTBEAT", 1}, {"FEATURE_AGENT_POLLING", 0}, {"FEATURE_ZZZ", 2}});
  payload back;
  REQUIRE(decode_payload(call_arrived::name, call_arrived::schema, bytes, &back));
  CHECK(std::get<call_arrived>(back).flags == a.flags);
  payload from_json;
  REQUIRE(payload_from_json(call_arrived::name, payload_to_json(payload{a}), &from_json));
  CHECK(std::get<call_arrived>(from_json).flags == a.flags);
  // No flags: an empty map, as before.
  CHECK(payload_to_json(payload{call_arrived{}})["flags"] == nlohmann::json::object());
}
