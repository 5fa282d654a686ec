#include "events/codec.hpp"

#include <catch2/catch.hpp>

using namespace callq;
using namespace callq::events;

namespace {

// Fills every field with a value derived from its name, so that a field
// dropped or swapped by a codec shows up as a difference.
struct filler {
  int n = 0;
  void operator()(const char* key, std::string& v) { v = std::string(key) + "-" + std::to_string(++n) + " ü|,\""; }
  void operator()(const char*, int64_t& v) { v = -1234567890123LL + (++n) * 7919; }
  void operator()(const char*, bool& v) { v = (++n % 2) == 1; }
  void operator()(const char* key, string_list& v) { v = {key, "", "b|c"}; ++n; }
  void operator()(const char* key, level_map& v) { v = {{key, -3 - n}, {"", 0}, {"x|y", ++n}}; }
  // Known flags on and off, a known flag with another value, other names.
  void operator()(const char* key, flag_set& v) {
    v = flag_set{};
    v.set("FEATURE_QUEUE_HOLD_MUSIC", 0);
    v.set("FEATURE_AGENT_POLLING", 1);
    v.set("FEATURE_ENHANCED_QUEUE", 7);
    v.set(key, -3 - n);
    v.set("", 0);
    v.set("x|y", ++n);
  }
};

// Compares field by field.
template <class T> bool same_fields(const T& a, const T& b) {
  return payload_to_json(payload{a}) == payload_to_json(payload{b});
}

template <size_t I = 0> void round_trip_all() {
  if constexpr (I < std::variant_size_v<payload>) {
    using T = std::variant_alternative_t<I, payload>;
    T original;
    filler f;
    original.fields(f);
    DYNAMIC_SECTION(T::name) {
      std::string bytes;
      encode_payload(payload{original}, bytes);
      payload decoded;
      REQUIRE(decode_payload(T::name, T::schema, bytes, &decoded));
      REQUIRE(std::holds_alternative<T>(decoded));
      CHECK(same_fields(std::get<T>(decoded), original));

      auto j = payload_to_json(payload{original});
      payload from_json;
      REQUIRE(payload_from_json(T::name, nlohmann::json::parse(j.dump()), &from_json));
      CHECK(payload_to_json(from_json) == j);
      CHECK(type_name(from_json) == T::name);
    }
    round_trip_all<I + 1>();
  }
}

}  // namespace

TEST_CASE("every event type round-trips through binary and JSON") {
  round_trip_all();
}

TEST_CASE("an unknown event type is an error, never skipped") {
  payload p;
  auto st = decode_payload("call.teleported", 1, "", &p);
  CHECK_FALSE(st);
  CHECK(st.message().find("unknown event type 'call.teleported'") != std::string::npos);
  CHECK_FALSE(payload_from_json("call.teleported", nlohmann::json::object(), &p));
}

TEST_CASE("a newer schema version is refused with a clear message") {
  std::string bytes;
  encode_payload(payload{call_arrived{}}, bytes);
  payload p;
  auto st = decode_payload("call.arrived", call_arrived::schema + 1, bytes, &p);
  CHECK_FALSE(st);
  CHECK(st.message().find("newer") != std::string::npos);
}

TEST_CASE("truncated payload bytes are corruption") {
  call_enqueued e;
  e.call_sid = "CA1";
  e.queue = "support";
  std::string bytes;
  encode_payload(payload{e}, bytes);
  payload p;
  CHECK(decode_payload("call.enqueued", 1, bytes, &p));
  CHECK_FALSE(decode_payload("call.enqueued", 1, bytes.substr(0, bytes.size() - 1), &p));
  CHECK_FALSE(decode_payload("call.enqueued", 1, bytes + "x", &p));
}

TEST_CASE("JSON with a missing or mistyped field is rejected") {
  payload p;
  auto st = payload_from_json("agent.removed", nlohmann::json::object(), &p);
  CHECK_FALSE(st);
  CHECK(st.message() == "missing field agentId");
  st = payload_from_json("agent.removed", {{"agentId", 5}}, &p);
  CHECK(st.message() == "wrong type for field agentId");
}

TEST_CASE("streams are derived from the payload") {
  CHECK(stream_of(payload{call_offered{"CA9", "alice", "o1", "support", 1, false}}) == "call/CA9");
  agent_paused ap;
  ap.agent_id = "bob";
  CHECK(stream_of(payload{ap}) == "agent/bob");
  caller_set cs;
  cs.number = "+15550001";
  CHECK(stream_of(payload{cs}) == "caller/+15550001");
  CHECK(stream_of(payload{system_started{}}) == "system");
}

TEST_CASE("a stream's kind and id come without building its name") {
  payload offered{call_offered{"CA9", "alice", "o1", "support", 1, false}};
  stream_ref s = stream_ref_of(offered);
  CHECK(s.kind == stream_kind::call);
  CHECK(s.id == "CA9");
  agent_offer_received r;  // an agent event naming a call: the agent's stream
  r.agent_id = "bob";
  r.call_sid = "CA9";
  payload received{r};  // the id is a view into the payload: keep it
  s = stream_ref_of(received);
  CHECK(s.kind == stream_kind::agent);
  CHECK(s.id == "bob");
  payload configured{queue_configured{"sales", "{}"}};
  s = stream_ref_of(configured);
  CHECK(s.kind == stream_kind::queue);
  CHECK(s.id == "sales");
  caller_set cs;
  cs.number = "+15550001";
  payload set{cs};
  s = stream_ref_of(set);
  CHECK(s.kind == stream_kind::caller);
  CHECK(s.id == "+15550001");
  payload started{system_started{}};
  s = stream_ref_of(started);
  CHECK(s.kind == stream_kind::system);
  CHECK(s.id.empty());
}

TEST_CASE("ISO 8601 times format and parse") {
  CHECK(format_iso8601(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601(1795608000123) == "2026-11-25T12:00:00.123Z");
  int64_t ms = 0;
  REQUIRE(parse_iso8601("2026-11-25T12:00:00.123Z", &ms));
  CHECK(ms == 1795608000123);
  REQUIRE(parse_iso8601("2026-11-25T14:00:00+02:00", &ms));
  CHECK(ms == 1795608000000);
  REQUIRE(parse_iso8601("2026-11-25", &ms));
  CHECK(ms == 1795564800000);
  CHECK_FALSE(parse_iso8601("yesterday", &ms));
  CHECK_FALSE(parse_iso8601("2026-13-01", &ms));
  CHECK_FALSE(parse_iso8601("2026-11-25T08:00:00Zjunk", &ms));
}

TEST_CASE("varints survive the full 64-bit range") {
  for (uint64_t v : {uint64_t{0}, uint64_t{127}, uint64_t{128}, ~uint64_t{0}}) {
    std::string out;
    put_varint(out, v);
    std::string_view in = out;
    uint64_t back = 1;
    REQUIRE(get_varint(in, &back));
    CHECK(back == v);
    CHECK(in.empty());
  }
}

TEST_CASE("a payload of an older schema lacks the fields appended since, they keep defaults") {
  call_arrived a;
  a.call_sid = "CA1";
  a.from = "+15551234567";
  a.priority = 3;
  a.order = 0;  // the one byte of a zero varint, appended by schema 2
  std::string bytes;
  encode_payload(payload{a}, bytes);
  std::string v1 = bytes.substr(0, bytes.size() - 1);
  payload p;
  REQUIRE(decode_payload("call.arrived", 1, v1, &p));
  CHECK(std::get<call_arrived>(p).priority == 3);
  CHECK(std::get<call_arrived>(p).order == 0);
  // At the current schema a short payload is damage, not an old format.
  CHECK_FALSE(decode_payload("call.arrived", call_arrived::schema, v1, &p));
  // And an older payload with trailing garbage is still refused.
  CHECK_FALSE(decode_payload("call.arrived", 1, bytes + "xx", &p));
}

TEST_CASE("a schema-1 agent event decodes with empty penalties and skill levels") {
  // Schema 1 of agent.created ends after `skills`.
  std::string bytes;
  for (const char* s : {"alice", "Alice", "alice", "hash"})
    put_string(bytes, s);
  put_varint(bytes, 1);
  put_string(bytes, "support");
  put_varint(bytes, 1);
  put_string(bytes, "es");
  payload p;
  REQUIRE(decode_payload("agent.created", 1, bytes, &p));
  auto& a = std::get<agent_created>(p);
  CHECK(a.skills == string_list{"es"});
  CHECK(a.penalties.empty());
  CHECK(a.skill_levels.empty());
  // The same bytes claiming schema 2 are truncated: an error.
  CHECK_FALSE(decode_payload("agent.created", 2, bytes, &p));
}

TEST_CASE("queue configuration events go to the queue's stream") {
  CHECK(stream_of(queue_configured{"sales", "{}"}) == "queue/sales");
  CHECK(stream_of(queue_removed{"sales"}) == "queue/sales");
  CHECK(queue_of(queue_removed{"sales"}) == "sales");
}

TEST_CASE("a length or a count beyond the bytes left is corruption, whatever it claims") {
  // A string that claims one byte more than is left.
  std::string bytes;
  put_varint(bytes, 4);
  bytes += "abc";
  std::string_view in = bytes;
  std::string_view s;
  CHECK_FALSE(get_string(in, &s));
  // A list count no payload could hold: refused, not allocated.
  call_offered o;
  o.call_sid = "CA1";
  std::string payload_bytes;
  encode_payload(payload{o}, payload_bytes);
  REQUIRE(payload_bytes.back() == 0);  // the empty agents list, last
  payload_bytes.pop_back();
  put_varint(payload_bytes, uint64_t{1} << 40);
  payload p;
  auto st = decode_payload(type_name(payload{o}), schema_of(payload{o}), payload_bytes, &p);
  CHECK(st.is_corruption());
}

TEST_CASE("ISO 8601: each field's range and width, a space for T, offsets either way") {
  int64_t ms = 0;
  REQUIRE(parse_iso8601("2026-11-25 12:00:00Z", &ms));
  CHECK(ms == 1795608000000);
  REQUIRE(parse_iso8601("2026-11-25T10:00:00-02:00", &ms));
  CHECK(ms == 1795608000000);
  REQUIRE(parse_iso8601("2026-12-31T23:59:60Z", &ms));  // a leap second
  REQUIRE(parse_iso8601("2026-01-31", &ms));
  for (const char* bad : {"2026-1-25", "2026-11-25T1:00:00Z", "2026-00-10", "2026-13-10", "2026-11-00",
                          "2026-11-32", "2026-11-25T24:00:00Z", "2026-11-25T12:60:00Z",
                          "2026-11-25T12:00:61Z"}) {
    INFO(bad);
    CHECK_FALSE(parse_iso8601(bad, &ms));
  }
}
