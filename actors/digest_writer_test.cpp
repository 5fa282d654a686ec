#include "actors/digest_writer.hpp"

#include <cstdint>
#include <limits>
#include <sstream>

#include <catch2/catch.hpp>

using callq::digest_writer;

TEST_CASE("a digest's text is byte for byte what std::ostream writes for the same values") {
  std::string text;
  digest_writer w(&text);
  std::ostringstream o;
  auto both = [&](auto v) {
    w << v;
    o << v;
  };
  both(std::numeric_limits<int64_t>::min());
  both('|');
  both(std::numeric_limits<int64_t>::max());
  both(std::numeric_limits<uint64_t>::max());
  both(int64_t{0});
  both(int32_t{-42});
  both(uint32_t{7});
  both(size_t{123456789});
  both(true);
  both(false);
  both(std::string("call CA1"));
  both(std::string_view("|prefers "));
  both("queue ");
  both(std::string());
  both(' ');
  CHECK(text == o.str());
  CHECK(text.find("-9223372036854775808|9223372036854775807") == 0);
}
