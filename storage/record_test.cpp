#include "storage/record.hpp"

#include <catch2/catch.hpp>

#include "events/catalogue.hpp"

using namespace callq;
using namespace callq::storage;

namespace {

/// The stored bytes of event `seq`: its body, then a chain value of zeros.
std::string stored(uint64_t seq, int64_t ts_ms) {
  events::call_announced a;
  a.call_sid = "CA1";
  a.position = 3;
  std::string body;
  encode_record_body(seq, "call/CA1", 2, events::event{ts_ms, a}, body);
  return body + std::string(32, '\0');
}

}  // namespace

TEST_CASE("records: what is encoded is parsed back, times before 1970 too") {
  for (int64_t ts : {int64_t{1'795'608'000'123}, int64_t{0}, int64_t{-1}, int64_t{-1'000}}) {
    INFO(ts);
    record_view r;
    std::string value = stored(7, ts);
    REQUIRE(parse_record(value, &r));
    CHECK(r.seq == 7);
    CHECK(r.stream == "call/CA1");
    CHECK(r.stream_version == 2);
    CHECK(r.ts_ms == ts);
    CHECK(r.type == "call.announced");
  }
}

TEST_CASE("records: an unknown format, trailing bytes or a short value are corruption") {
  record_view r;
  std::string value = stored(7, 1000);
  std::string other_format = value;
  other_format[0] = 2;
  CHECK(parse_record(other_format, &r).is_corruption());
  std::string trailing = value.substr(0, value.size() - 32) + "x" + std::string(32, '\0');
  CHECK(parse_record(trailing, &r).is_corruption());
  CHECK(parse_record(value.substr(0, 32), &r).is_corruption());
}

TEST_CASE("records: sequence keys and chain heads have one size") {
  CHECK(seq_from_key(seq_key(0x0102030405060708)) == 0x0102030405060708);
  CHECK(seq_from_key("1234567") == 0);  // 7 bytes
  CHECK(seq_from_key("123456789") == 0);
  events::chain_value chain{};
  chain[0] = 9;
  uint64_t seq = 0;
  events::chain_value back{};
  std::string head = encode_chain_head(42, chain);
  REQUIRE(decode_chain_head(head, &seq, &back));
  CHECK(seq == 42);
  CHECK(back == chain);
  CHECK_FALSE(decode_chain_head(head.substr(1), &seq, &back));
  CHECK_FALSE(decode_chain_head(head + "x", &seq, &back));
}
