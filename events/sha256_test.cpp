#include "events/sha256.hpp"

#include <catch2/catch.hpp>

using namespace callq::events;

TEST_CASE("SHA-256 gives the published vectors, in one part or two") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string long_text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(to_hex(sha256(long_text)) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Split anywhere, the same digest: the chain hashes previous || body.
  for (size_t cut : {size_t{0}, size_t{1}, size_t{32}, long_text.size()})
    CHECK(sha256(std::string_view(long_text).substr(0, cut),
                 std::string_view(long_text).substr(cut)) == sha256(long_text));
  CHECK(sha256("ab", "c") != sha256("ab", "d"));
}
