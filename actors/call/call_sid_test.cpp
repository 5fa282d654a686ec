#include "actors/call/call_sid.hpp"

#include <set>
#include <unordered_map>

#include <catch2/catch.hpp>

namespace callq {

TEST_CASE("call_sid: copies share one immutable copy of the characters") {
  call_sid a(std::string("CA0123456789abcdef0123456789abcdef"));
  call_sid b = a;
  CHECK(b.view().data() == a.view().data());  // shared, not copied
  CHECK(b == "CA0123456789abcdef0123456789abcdef");
  call_sid moved = std::move(b);
  CHECK(b.empty());
  CHECK(moved.view().data() == a.view().data());
  {
    call_sid c = a;
    a = call_sid();  // the characters live on in c
    CHECK(c == "CA0123456789abcdef0123456789abcdef");
  }
  CHECK(moved.str() == "CA0123456789abcdef0123456789abcdef");
}

TEST_CASE("call_sid: equal, ordered and hashed by its characters, wherever it was made") {
  call_sid a("CA2"), b("CA2"), c("CA10");
  CHECK(a.view().data() != b.view().data());
  CHECK(a == b);
  CHECK(a != c);
  CHECK(c < a);  // by characters
  CHECK_FALSE(a < b);
  CHECK(std::hash<call_sid>{}(a) == std::hash<std::string_view>{}("CA2"));
  std::unordered_map<call_sid, int> by_sid;
  by_sid[a] = 1;
  by_sid[b] = 2;  // the same key
  CHECK(by_sid.size() == 1);
  CHECK(by_sid.at(call_sid("CA2")) == 2);
  std::set<call_sid> ordered{call_sid("CA3"), c, a};
  CHECK(ordered.begin()->view() == "CA10");
}

TEST_CASE("call_sid: the empty CallSid holds nothing") {
  call_sid none, also(std::string_view{});
  CHECK(none.empty());
  CHECK(also.empty());
  CHECK(none == also);
  CHECK(none.view().empty());
  CHECK(none.str().empty());
}

}  // namespace callq
